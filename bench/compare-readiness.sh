#!/usr/bin/env bash
# The readiness chapter's figures, in one run: blocking, nonblocking, select
# and poll, each started on its own port and pinned to CPU 0, the bench on
# CPU 1. For each model:
#   - idle CPU: percent of one core used over 5 s with no client at all;
#   - bench load -c100 -d5 /numbers.txt, ROUNDS rounds (median);
#   - bench load -c100 -d5 /delay/100, once (it is paced by the delay).
# Rounds alternate between the models, so drift hits all of them alike.
# Errors are reported, not hidden: the blocking server serves one keep-alive
# connection at a time, so its other 99 connections time out.
#   bench/compare-readiness.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
models=(blocking nonblocking select poll)
cargo build --release -q -p bench -p blocking -p nonblocking -p select

. bench/common.sh

# Each model runs only while it is measured: a busy-polling server left
# running would take CPU 0 from the others.
server_pid=''
result=$(mktemp)
trap 'rm -f "$result"; [ -z "$server_pid" ] || kill -TERM "$server_pid" 2>/dev/null || true' EXIT

# Percent of one core a process used over 5 s: (utime + stime) from /proc.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
echo "idle CPU over 5 s, no client:"
for model in "${models[@]}"; do
    start_server "$model"
    sleep 0.5
    before=$(ticks "$server_pid")
    sleep 5
    after=$(ticks "$server_pid")
    stop
    printf '  %-12s %5.1f%% of a core\n' "$model" "$(awk -v a="$after" -v b="$before" -v hz="$hz" 'BEGIN { print (a - b) / hz / 5 * 100 }')"
done

# common.sh's `load` starts ${cmd[NAME]}: here each model is its binary.
declare -A cmd=()
for model in "${models[@]}"; do cmd[$model]=$model; done

echo "bench load -c100 -d5 /numbers.txt, $rounds rounds:"
declare -A rates errs
for round in $(seq 1 "$rounds"); do
    line="  round $round:"
    for model in "${models[@]}"; do
        load "$model" /numbers.txt -c100 >"$result"
        read -r rate err <"$result"
        rates[$model]="${rates[$model]:-} $rate"
        errs[$model]="${errs[$model]:-} $err"
        line="$line $model $rate ($err errors)"
    done
    echo "$line"
done
for model in "${models[@]}"; do
    printf '  %-12s median %8.0f req/s   errors per round:%s\n' "$model" \
        "$(printf '%s\n' ${rates[$model]} | median)" "${errs[$model]}"
done

delays 100 "${models[@]}"
