#!/usr/bin/env bash
# The threaded and forking chapters' figures, in one run. Every server is
# started on a free port, pinned to CPU 0, with the bench on CPU 1, and
# runs only while it is measured. Variants:
#   epoll (the reference), threaded, threaded --pool 8,
#   forking (a process per connection), forking --workers 2.
#
# Part 1, ROUNDS rounds alternating between the variants, medians:
#   bench load -c100 -d5 /numbers.txt              (keep-alive)
#   bench load -c100 -d5 /numbers.txt --no-keepalive  (a connection per request)
# Part 2, once each:
#   bench load -c1000 -d5 /delay/100 (ideal 10,000 req/s)
#   bench hold -n 10000 --pid PID: held, RSS per held connection, the
#   server's thread count and the kernel's KernelStack while holding.
# Part 3: fork vs thread start-up cost (forking's spawn_cost example).
# Errors are reported, not hidden: a pool of N serves N keep-alive
# connections and the rest time out.
#   bench/compare-threads.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cargo build --release -q -p bench -p epoll -p threaded -p forking
cargo build --release -q -p forking --example spawn_cost

. bench/common.sh

server_pid=''
result=$(mktemp)
trap 'rm -f "$result"; [ -z "$server_pid" ] || kill -TERM "$server_pid" 2>/dev/null || true' EXIT

# The variants: a name, and the binary with its flags.
names=(epoll threaded threaded-pool8 forking forking-w2)
declare -A cmd=(
    [epoll]="epoll"
    [threaded]="threaded"
    [threaded-pool8]="threaded --pool 8"
    [forking]="forking"
    [forking-w2]="forking --workers 2"
)


declare -A med
for mode in keepalive no-keepalive; do
    flags=(-c100)
    [ "$mode" = no-keepalive ] && flags+=(--no-keepalive)
    echo "bench load -c100 -d5 /numbers.txt ($mode), $rounds rounds:"
    declare -A rates=() errs=()
    for round in $(seq 1 "$rounds"); do
        line="  round $round:"
        for name in "${names[@]}"; do
            load "$name" /numbers.txt "${flags[@]}" >"$result"
            read -r rate err <"$result"
            rates[$name]="${rates[$name]:-} $rate"
            errs[$name]="${errs[$name]:-} $err"
            line="$line $name $rate ($err)"
        done
        echo "$line"
    done
    for name in "${names[@]}"; do
        med[$mode,$name]=$(printf '%s\n' ${rates[$name]} | median)
        printf '  %-15s median %8.0f req/s  %5.2fx epoll   errors per round:%s\n' "$name" \
            "${med[$mode,$name]}" "$(awk -v a="${med[$mode,$name]}" -v b="${med[$mode,epoll]}" 'BEGIN { print a / b }')" \
            "${errs[$name]}"
    done
done
echo "  goal: threaded >= 0.80x epoll (keep-alive): $(awk -v a="${med[keepalive,threaded]}" -v b="${med[keepalive,epoll]}" 'BEGIN { print (a / b >= 0.8) ? "met" : "NOT met" }')"

echo
delays 1000 "${names[@]}"

# Threads of a process, and the kernel's memory for stacks (kB, machine-wide).
threads() { awk '/^Threads:/ { print $2 }' "/proc/$1/status"; }
kernel_stack() { awk '/^KernelStack:/ { print $2 }' /proc/meminfo; }
echo
echo "bench hold -n 10000 -d 10 (--max-conns 20000):"
for name in epoll threaded; do
    # shellcheck disable=SC2086
    start_server ${cmd[$name]} --max-conns 20000
    ks_before=$(kernel_stack)
    taskset -c 1 target/release/bench hold "http://$server_addr/numbers.txt" -n 10000 --ramp 100/10ms -d 10 \
        --pid "$server_pid" --json >"$result" 2>/dev/null &
    hold_pid=$!
    sleep 8 # ramped up (10,000 at 100 per 10 ms is 1 s) and holding
    held_threads=$(threads "$server_pid")
    ks_full=$(kernel_stack)
    wait "$hold_pid"
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("  %-15s held %d of %d (at the end %d); refused %d, reset %d, timed out %d, bad %d" % (
    sys.argv[2], r["held_max"], r["target"], r["held_at_end"], r["refused"], r["reset"], r["timed_out"], r["bad_answers"]))
print("  %-15s RSS %.1f MB before, %.1f MB holding: %.0f bytes per held connection" % (
    "", r["server_rss_before"] / 1e6, r["server_rss_full"] / 1e6, r["server_bytes_per_connection"]))
print("  %-15s %s threads while holding; KernelStack +%.1f MB (%.1f KiB per connection)" % (
    "", sys.argv[3], int(sys.argv[4]) / 1e3, int(sys.argv[4]) / r["held_max"] if r["held_max"] else 0))' \
        "$result" "$name" "$held_threads" "$((ks_full - ks_before))"
    stop
done

echo
echo "fork vs thread (cargo run --release -p forking --example spawn_cost):"
taskset -c 0 target/release/examples/spawn_cost | sed 's/^/  /'
