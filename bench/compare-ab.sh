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

. bench/common.sh

start_server blocking
trap 'kill "$server_pid" 2>/dev/null' EXIT
url="http://$server_addr/numbers.txt"

run_ab() {
    taskset -c 1 ab -q -n 10000 -c 100 "$url" | awk '/^Failed requests/ { f = $3 } /^Requests per second/ { r = $4 } END { print (f == 0) ? r : "failed:" f }'
}
run_bench() {
    taskset -c 1 target/release/bench load "$url" --no-keepalive -n 10000 -c 100 --json 2>/dev/null | bench_rate
}
compare "$rounds" ab
