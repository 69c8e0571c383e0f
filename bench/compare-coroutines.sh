#!/usr/bin/env bash
# The coroutine and async_await chapters' figures, in one run. Servers are
# started on a free port, pinned to CPU 0 with the bench on CPU 1 (part 4
# gives both CPUs to both), and run only while they are measured.
#
# Part 1, ROUNDS rounds alternating between the variants, medians:
#   bench load -c100 -d5 /numbers.txt (keep-alive): epoll, coroutine,
#   coroutine --workers 2, async_await. Goal: coroutine and async_await
#   >= 0.90x epoll (two may workers on the one server CPU: for reference).
# Part 2: bench load -c1000 -d5 /delay/100 (ideal 10,000 req/s; goal >= 9,000).
# Part 3: bench hold -n 19000 --pid PID: held, RSS per held connection, for
#   async_await (goal <= 512 B), coroutine with 8 KiB and 32 KiB stacks,
#   and epoll for reference.
# Part 4: the /cpu stall. One client asks for /cpu/100000 over and over
#   while another fetches /numbers.txt for 3 s: its latency with one may
#   worker, with two, and on async_await's one thread; 3 runs each (with two
#   workers the outcome depends on which worker owns which socket).
# Part 5: the blocking call that slips in (coroutine's `slip` example).
#   bench/compare-coroutines.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cargo build --release -q -p bench -p epoll -p coroutine -p async_await
cargo build --release -q -p coroutine --example slip

. bench/common.sh

server_pid=''
result=$(mktemp)
trap 'rm -f "$result"; [ -z "$server_pid" ] || kill -TERM "$server_pid" 2>/dev/null || true' EXIT

names=(epoll coroutine coroutine-w2 async_await)
declare -A cmd=(
    [epoll]="epoll"
    [coroutine]="coroutine"
    [coroutine-w2]="coroutine --workers 2"
    [coroutine-8k]="coroutine --stack-size 8192"
    [async_await]="async_await"
)


echo "bench load -c100 -d5 /numbers.txt (keep-alive), $rounds rounds:"
declare -A rates=() errs=() med=()
for round in $(seq 1 "$rounds"); do
    line="  round $round:"
    for name in "${names[@]}"; do
        load "$name" /numbers.txt -c100 >"$result"
        read -r rate err <"$result"
        rates[$name]="${rates[$name]:-} $rate"
        errs[$name]="${errs[$name]:-} $err"
        line="$line $name $rate ($err)"
    done
    echo "$line"
done
for name in "${names[@]}"; do
    med[$name]=$(printf '%s\n' ${rates[$name]} | median)
    ratio=$(awk -v a="${med[$name]}" -v b="${med[epoll]}" 'BEGIN { printf "%.2f", a / b }')
    goal=''
    [ "$name" = epoll ] || [ "$name" = coroutine-w2 ] || goal=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.90) ? "goal >= 0.90x met" : "goal >= 0.90x NOT met" }')
    printf '  %-13s median %8.0f req/s  %sx epoll  errors per round:%s  %s\n' "$name" "${med[$name]}" "$ratio" "${errs[$name]}" "$goal"
done

echo
delays 1000 epoll coroutine async_await

echo
echo "bench hold -n 19000 -d 10 (the default ramp, 10 every 10 ms; --max-conns 20000):"
for name in epoll async_await coroutine-8k coroutine; do
    hold "$name" 19000
done

echo
echo "/cpu stall: /numbers.txt on one connection for 3 s while another asks /cpu/100000 over and over"
echo "(server and bench on both CPUs):"
for variant in "coroutine" "coroutine --workers 2" "async_await" "epoll"; do
  for run in 1 2 3; do
    # shellcheck disable=SC2086
    server_cpus=0,1 start_server $variant
    target/release/bench load "http://$server_addr/cpu/100000" -c1 -d4 --json >/dev/null 2>&1 &
    hog=$!
    sleep 0.5
    target/release/bench load "http://$server_addr/numbers.txt" -c1 -d3 --json 2>/dev/null >"$result"
    wait "$hog"
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); l = r["latency"]
print("  %-22s run %s: %7.0f req/s  latency p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms" % (
    sys.argv[2], sys.argv[3], r["requests_per_s"], l["p50_us"] / 1e3, l["p99_us"] / 1e3, l["max_us"] / 1e3))' \
        "$result" "$variant" "$run"
    stop
  done
done

echo
echo "a blocking call in a coroutine (cargo run --release -p coroutine --example slip [WORKERS]):"
taskset -c 0,1 target/release/examples/slip 1 | sed 's/^/  /'
taskset -c 0,1 target/release/examples/slip 2 | sed 's/^/  /'
