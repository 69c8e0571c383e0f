#!/usr/bin/env bash
# bench load vs wrk against the same nginx (1 worker, access_log off), on the
# 29-byte numbers.txt, in one run: ROUNDS alternating rounds of
#   wrk -t1 -c100 -d5          and          bench load -t1 -c100 -d5
# then the median requests/s of each and their ratio. Installs wrk and nginx
# from Debian's packages when missing; starts and stops nginx by PID.
#
# Placement: the nginx worker is pinned to CPU 0 and both clients to CPU 1,
# the same for both tools. Unpinned, the scheduler's wake-affine placement now
# and then pulls the client onto the server's core, more often for the client
# that sleeps more between events, and that noise decides the ratio.
#   bench/compare-wrk.sh [ROUNDS] [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
seconds=${2:-5}
conns=${3:-100}
port=7180
url="http://127.0.0.1:$port/numbers.txt"

command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >&2
cargo build --release -q -p bench
pid=$(bench/nginx/nginx.sh start "$port" 1)
trap 'bench/nginx/nginx.sh stop "$pid"' EXIT
for worker in $(cat "/proc/$pid/task/$pid/children"); do taskset -pc 0 "$worker" >/dev/null; done

. bench/common.sh

run_wrk() {
    taskset -c 1 wrk -t1 -c"$conns" -d"$seconds" "$url" | awk '/^Requests\/sec/ { print $2 }'
}
run_bench() {
    taskset -c 1 target/release/bench load "$url" -t1 -c"$conns" -d"$seconds" --json 2>/dev/null | bench_rate
}
compare "$rounds" wrk
