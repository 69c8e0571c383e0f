#!/usr/bin/env bash
# The signal_driven and uring chapters' figures, in one run. Servers are
# started on a free port, pinned to CPU 0 with the bench on CPU 1, and run
# only while they are measured.
#
# Part 1, ROUNDS rounds alternating between the servers, medians:
#   bench load -c100 -d5 /numbers.txt (keep-alive): epoll, signal_driven,
#   uring, and uring --shots single (no multishot) for reference.
#   Goal: uring >= 1.10x epoll; signal_driven measured against both.
# Part 2, ROUNDS rounds: bench echo -c100 --size 128 -d5, the same four.
# Part 3: bench load -c1000 -d5 /delay/100 (ideal 10,000 req/s; goal >= 9,000).
# Part 4: bench hold --pid PID: uring and epoll at 19,000 (goal: all held,
#   <= 512 bytes per held connection), signal_driven at 10,000 (goal: all held).
#   bench/compare-completions.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cargo build --release -q -p bench -p epoll -p signal_driven -p uring

. bench/common.sh

server_pid=''
result=$(mktemp)
trap 'rm -f "$result"; [ -z "$server_pid" ] || kill -TERM "$server_pid" 2>/dev/null || true' EXIT

names=(epoll signal_driven uring uring-single)
declare -A cmd=([epoll]="epoll" [signal_driven]="signal_driven" [uring]="uring" [uring-single]="uring --shots single")

# echo_rate NAME: `bench echo -c100 --size 128 -d5` against NAME started
# with --proto echo; prints messages/s and the error count.
echo_rate() {
    # shellcheck disable=SC2086
    start_server ${cmd[$1]} --proto echo
    taskset -c 1 target/release/bench echo "$server_addr" -c100 --size 128 -d5 --json 2>/dev/null |
        python3 -c '
import json, sys
r = json.load(sys.stdin)
print("%.0f %d" % (r["messages_per_s"], sum(r["errors"].values()) + r["mismatches"]))'
    stop
}

# rounds_of TITLE GOAL MEASURE ARGS...: ROUNDS rounds of `MEASURE NAME ARGS`
# over every server, then each one's median and its ratio to epoll's and
# uring's. GOAL: the uring/epoll ratio to meet, or '' for none.
rounds_of() {
    local title=$1 goal=$2 measure=$3 round name line rate err
    shift 3
    echo "$title, $rounds rounds:"
    declare -A rates=() errs=() med=()
    local ratios=()
    for round in $(seq 1 "$rounds"); do
        line="  round $round:"
        for name in "${names[@]}"; do
            "$measure" "$name" "$@" >"$result"
            read -r rate err <"$result"
            rates[$name]="${rates[$name]:-} $rate"
            errs[$name]="${errs[$name]:-} $err"
            line="$line $name $rate ($err)"
        done
        ratios+=("$(awk -v u="${rates[uring]##* }" -v e="${rates[epoll]##* }" 'BEGIN { print u / e }')")
        echo "$line"
    done
    for name in "${names[@]}"; do
        med[$name]=$(printf '%s\n' ${rates[$name]} | median)
    done
    for name in "${names[@]}"; do
        printf '  %-13s median %8.0f/s  %sx epoll  %sx uring  errors per round:%s\n' "$name" "${med[$name]}" \
            "$(awk -v a="${med[$name]}" -v b="${med[epoll]}" 'BEGIN { printf "%.2f", a / b }')" \
            "$(awk -v a="${med[$name]}" -v b="${med[uring]}" 'BEGIN { printf "%.2f", a / b }')" "${errs[$name]}"
    done
    printf '  uring / epoll round by round: %s; their median %.3f\n' \
        "$(printf '%.2f ' "${ratios[@]}")" "$(printf '%s\n' "${ratios[@]}" | median)"
    if [ -n "$goal" ]; then
        awk -v u="${med[uring]}" -v e="${med[epoll]}" -v g="$goal" \
            'BEGIN { r = u / e; printf "  uring / epoll (ratio of the medians) = %.3f: goal >= %s %s\n", r, g, (r >= g) ? "met" : "NOT met" }'
    fi
}

rounds_of "bench load -c100 -d5 /numbers.txt (keep-alive), requests/s" 1.10 load /numbers.txt -c100
echo
rounds_of "bench echo -c100 --size 128 -d5, messages/s" '' echo_rate

echo
delays 1000 epoll signal_driven uring

echo
echo "bench hold -d 10 (the default ramp, 10 every 10 ms; --max-conns 20000):"
hold uring 19000
hold epoll 19000
hold signal_driven 10000

# Part 5: system calls per request, counted by strace -c -f over 3 s of
# `bench load -c100 /numbers.txt`. strace makes every system call slow, so
# the rates mean nothing here; the counts per request are the point.
echo
echo "system calls per request (strace -c -f, 3 s of bench load -c100 /numbers.txt):"
if ! command -v strace >/dev/null; then
    echo "  strace is not installed (apt-get install strace): skipped"
    exit 0
fi
for name in epoll signal_driven uring; do
    out=$(mktemp)
    # shellcheck disable=SC2086
    strace -c -f -o "$result" target/release/${cmd[$name]} --addr 127.0.0.1:0 >"$out" 2>/dev/null &
    tracer=$!
    for _ in $(seq 1 100); do grep -q '^listening on' "$out" && break; sleep 0.05; done
    addr=$(sed -n 's/^listening on //p' "$out")
    requests=$(taskset -c 1 target/release/bench load "http://$addr/numbers.txt" -c100 -d3 --json 2>/dev/null |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"])')
    kill -TERM "$(pgrep -P "$tracer")"
    wait "$tracer" || true
    rm -f "$out"
    awk -v name="$name" -v n="$requests" '
        $NF == "total" || $4 + 0 == 0 || NR <= 2 { next }
        { calls[$NF] = $4; all += $4 }
        END {
            line = sprintf("  %-13s %6d requests, %.2f calls per request:", name, n, all / n)
            for (c in calls) if (calls[c] / n >= 0.005) line = line sprintf(" %s %.2f", c, calls[c] / n)
            print line
        }' "$result"
done
