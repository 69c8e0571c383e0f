#!/usr/bin/env bash
# Start here's experiment: poll and epoll side by side, first with 10 busy
# clients, then with 5,000 idle connections held beside them. What a busy
# request costs each server's CPU is read from the kernel (`bench load
# --pid`), so the one figure to watch is "CPU µs per request".
#
#   cargo build --release && scripts/side-by-side.sh [IDLE]
#
# IDLE: how many idle connections to hold (default 5000; each server raises
# its fd limit, and the bench its own, so stay well under `ulimit -Hn`).
# Takes about 40 seconds; stops every process it started, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
idle=${1:-5000}
case $idle in '' | *[!0-9]*) echo "side-by-side.sh: IDLE must be a number, not '$idle'" >&2; exit 2 ;; esac
bin=target/release
for b in poll epoll bench; do
    [ -x "$bin/$b" ] || { echo "side-by-side.sh: no $bin/$b; run cargo build --release first" >&2; exit 1; }
done

pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
scratch=$(mktemp -d)
trap 'stop; rm -rf "$scratch"' EXIT

# Start SERVER on a free port: sets $pid and $addr.
start() {
    "$bin/$1" --addr 127.0.0.1:0 >"$scratch/$1.out" 2>&1 &
    pid=$!
    addr=""
    pids+=("$pid")
    for _ in $(seq 50); do
        addr=$(sed -n 's/^listening on //p' "$scratch/$1.out" | head -1)
        [ -n "$addr" ] && break
        sleep 0.1
    done
    [ -n "$addr" ] || { echo "side-by-side.sh: $1 did not start:" >&2; cat "$scratch/$1.out" >&2; exit 1; }
}

# CPU µs per request of server PID at ADDR under 10 busy keep-alive clients.
cost() {
    local out figure
    out=$("$bin/bench" load "http://$2/numbers.txt" -c 10 -d 3 --pid "$1")
    figure=$(sed -n 's/^  server *\([^ ]*\) µs CPU per request.*/\1/p' <<<"$out")
    [ -n "$figure" ] || { echo "side-by-side.sh: no 'server ... µs CPU per request' line from bench load:" >&2; echo "$out" >&2; exit 1; }
    echo "$figure"
}

printf '%-8s %28s %28s\n' "" "CPU µs per request:" ""
printf '%-8s %28s %28s\n' server "10 busy clients" "the same, $idle idle beside"
for server in poll epoll; do
    start "$server"
    alone=$(cost "$pid" "$addr")
    # Hold the idle connections (they ramp up at 1,000 a second), then
    # measure the busy clients again while they are held.
    ramp=$(( idle / 1000 + 2 ))
    "$bin/bench" hold "http://$addr/numbers.txt" -n "$idle" -d $(( ramp + 5 )) >"$scratch/hold.out" 2>&1 &
    hold=$!
    pids+=("$hold")
    sleep "$ramp"
    beside=$(cost "$pid" "$addr")
    wait "$hold" || { echo "side-by-side.sh: bench hold failed:" >&2; tail -3 "$scratch/hold.out" >&2; exit 1; }
    printf '%-8s %28s %28s\n' "$server" "$alone" "$beside"
    kill "$pid"
done
echo
echo "A '-' is a cost the kernel would not count for this user (see the README's Requirements)."
