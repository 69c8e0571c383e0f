#!/usr/bin/env bash
# The --trace lines of a server serving two requests on one keep-alive
# connection (curl asks for both URLs on one connection), printed on stdout:
#   bash docs/solutions/trace.sh BINARY [FLAGS...]
# Starts BINARY with --trace on a free port, runs the client, waits until
# the server has written its lines, and ends it by its PID.
set -euo pipefail
out=$(mktemp) err=$(mktemp)
"$@" --trace --addr 127.0.0.1:0 >"$out" 2>"$err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -f "$out" "$err"' EXIT
for _ in $(seq 100); do grep -q "^listening on" "$out" && break; sleep 0.05; done
port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$out")
[ -n "$port" ] || { echo "the server did not say where it listens"; exit 1; }
sleep 0.2
skip=$(wc -l <"$err")   # start-up lines are not the requests'
curl -s -o /dev/null -o /dev/null "http://127.0.0.1:$port/numbers.txt" "http://127.0.0.1:$port/numbers.txt"
sleep 0.3
tail -n "+$((skip + 1))" "$err"
