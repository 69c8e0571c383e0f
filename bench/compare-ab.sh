#!/usr/bin/env bash
# bench load --no-keepalive vs ab against the blocking server, in one run:
# ROUNDS alternating rounds of
#   ab -n 10000 -c 100          and    bench load --no-keepalive -n 10000 -c 100
# on /numbers.txt, then the medians and their ratio. Installs ab (Debian's
# apache2-utils) when missing; starts and stops the server by PID. The server
# runs on CPU 0 and the clients on CPU 1, as in compare-wrk.sh.
#   bench/compare-ab.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
command -v ab >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq apache2-utils) >&2
cargo build --release -q -p bench -p blocking

out=$(mktemp)
taskset -c 0 target/release/blocking --addr 127.0.0.1:0 >"$out" 2>/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 100); do grep -q '^listening on' "$out" && break; sleep 0.05; done
url="http://$(sed -n 's/^listening on //p' "$out")/numbers.txt"

. bench/common.sh

ab_rates=() bench_rates=()
for round in $(seq 1 "$rounds"); do
    a=$(taskset -c 1 ab -q -n 10000 -c 100 "$url" | awk '/^Failed requests/ { f = $3 } /^Requests per second/ { r = $4 } END { print (f == 0) ? r : "failed:" f }')
    b=$(taskset -c 1 target/release/bench load "$url" --no-keepalive -n 10000 -c 100 --json 2>/dev/null | bench_rate)
    echo "round $round: ab $a req/s, bench $b req/s"
    ab_rates+=("$a") bench_rates+=("$b")
done
a=$(printf '%s\n' "${ab_rates[@]}" | median)
b=$(printf '%s\n' "${bench_rates[@]}" | median)
echo "median: ab $a req/s, bench $b req/s, bench/ab = $(awk -v b="$b" -v a="$a" 'BEGIN { printf "%.3f", b / a }')"
