#!/usr/bin/env bash
# The epoll chapter's figures, in one run.
#
# Part 1, requests/s on the 29-byte /numbers.txt with keep-alive, measured by
# both wrk (-t1 -c100 -d5) and bench load (-t1 -c100 -d5), ROUNDS alternating
# rounds, medians:
#   nginx, 1 worker (access_log off, the same www/)  vs  epoll, 1 worker
#   epoll-mio, 1 worker                              vs  epoll, 1 worker
#   nginx, 2 workers                                 vs  epoll --workers 2
# One-worker servers are pinned to CPU 0 and their client to CPU 1 (as in
# compare-wrk.sh). Two-worker servers need both cores, so for them nothing
# is pinned: server and client share the machine, the same for nginx and epoll.
#
# Part 2, epoll at scale (level-triggered, 1 worker):
#   bench hold -n 19000 --pid PID: held, errors, RSS per held connection;
#   bench load -c1000 -d5 /delay/100: requests/s (ideal 10,000).
#
# Installs wrk and nginx from Debian's packages when missing; starts and
# stops every server by PID.
#   bench/compare-epoll.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >&2
cargo build --release -q -p bench -p epoll

. bench/common.sh

pids=()
nginx_pids=()
cleanup() {
    for pid in "${nginx_pids[@]}"; do bench/nginx/nginx.sh stop "$pid" || true; done
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# The targets: name, address, CPUs for its client.
declare -A addr client_cpus
nginx1=$(bench/nginx/nginx.sh start 7181 1)
nginx_pids+=("$nginx1")
for worker in $(cat "/proc/$nginx1/task/$nginx1/children"); do taskset -pc 0 "$worker" >/dev/null; done
addr[nginx]=127.0.0.1:7181 client_cpus[nginx]=1
nginx2=$(bench/nginx/nginx.sh start 7182 2)
nginx_pids+=("$nginx2")
addr[nginx-2w]=127.0.0.1:7182 client_cpus[nginx-2w]=0,1
server_cpus=0 start_server epoll
pids+=("$server_pid") addr[epoll]=$server_addr client_cpus[epoll]=1
server_cpus=0 start_server epoll-mio
pids+=("$server_pid") addr[epoll-mio]=$server_addr client_cpus[epoll-mio]=1
server_cpus=0,1 start_server epoll --workers 2
pids+=("$server_pid") addr[epoll-2w]=$server_addr client_cpus[epoll-2w]=0,1
targets=(nginx epoll epoll-mio nginx-2w epoll-2w)

run_wrk() {
    taskset -c "${client_cpus[$1]}" wrk -t1 -c100 -d5 "http://${addr[$1]}/numbers.txt" | awk '/^Requests\/sec/ { print $2 }'
}
run_bench() {
    taskset -c "${client_cpus[$1]}" target/release/bench load "http://${addr[$1]}/numbers.txt" -t1 -c100 -d5 --json 2>/dev/null | bench_rate
}

declare -A rates
for round in $(seq 1 "$rounds"); do
    line="round $round:"
    for tool in wrk bench; do
        for target in "${targets[@]}"; do
            rate=$("run_$tool" "$target")
            rates[$tool,$target]="${rates[$tool,$target]:-} $rate"
            line="$line $tool/$target $(printf '%.0f' "$rate")"
        done
    done
    echo "$line"
done

declare -A med
printf '\n%-10s %12s %12s   (requests/s, median of %s)\n' target wrk bench "$rounds"
for target in "${targets[@]}"; do
    for tool in wrk bench; do
        med[$tool,$target]=$(printf '%s\n' ${rates[$tool,$target]} | median)
    done
    printf '%-10s %12.0f %12.0f\n' "$target" "${med[wrk,$target]}" "${med[bench,$target]}"
done
ratio() { awk -v a="${med[$1,$2]}" -v b="${med[$1,$3]}" 'BEGIN { printf "%.3f", a / b }'; }
echo
for tool in wrk bench; do
    echo "$tool: epoll/nginx = $(ratio "$tool" epoll nginx) (goal >= 1.25)," \
        "epoll-2w/nginx-2w = $(ratio "$tool" epoll-2w nginx-2w) (goal >= 1.15)," \
        "epoll-mio/epoll = $(ratio "$tool" epoll-mio epoll) (goal >= 0.90)"
done
cleanup
pids=() nginx_pids=()

# Part 2: at scale, each on a fresh server (the /delay run first: after a
# hold, 19,000 client ports sit in TIME_WAIT and slow the bench's connects).
echo
server_cpus=0 start_server epoll
pids+=("$server_pid")
echo "bench load -c1000 -d5 /delay/100 (epoll, 1 worker):"
taskset -c 1 target/release/bench load "http://$server_addr/delay/100" -c1000 -d5 --json 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("  %.0f requests/s (goal >= 9000, ideal 10000), errors %s" % (r["requests_per_s"], r["errors"]))'
kill -TERM "$server_pid"
server_cpus=0 start_server epoll --max-conns 20000
pids+=("$server_pid")
echo "bench hold -n 19000 --pid $server_pid (epoll, 1 worker, --max-conns 20000):"
taskset -c 1 target/release/bench hold "http://$server_addr/numbers.txt" -n 19000 --ramp 100/10ms -d 10 --pid "$server_pid" --json 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("  held %d of %d at most, %d at the end; refused %d, reset %d, timed out %d, bad answers %d" % (
    r["held_max"], r["target"], r["held_at_end"], r["refused"], r["reset"], r["timed_out"], r["bad_answers"]))
print("  server RSS %.1f MB before, %.1f MB holding; %.0f bytes per held connection (goal <= 512)" % (
    r["server_rss_before"] / 1e6, r["server_rss_full"] / 1e6, r["server_bytes_per_connection"]))'
