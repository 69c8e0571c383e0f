#!/usr/bin/env bash
# Prints the CPU a server uses while nothing happens, over 2 seconds:
#   bash docs/solutions/idle-cpu.sh [--client] BINARY [FLAGS...]
#   -> "idle CPU: 3% of one core"
# Starts BINARY on a free port (with --client, then opens one keep-alive
# connection to it that sends nothing), measures the server's user + system
# time from /proc/PID/stat across 2 s, and ends it by its PID.
set -euo pipefail
client=false
if [ "${1:-}" = --client ]; then client=true; shift; fi
out=$(mktemp)
"$@" --addr 127.0.0.1:0 >"$out" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q "^listening on" "$out" && break; sleep 0.05; done
port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$out")
[ -n "$port" ] || { echo "the server did not say where it listens"; exit 1; }
if $client; then exec 3<>"/dev/tcp/127.0.0.1/$port"; fi
sleep 0.5
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
before=$(ticks)
sleep 2
after=$(ticks)
echo "idle CPU: $(( (after - before) * 100 / (2 * hz) ))% of one core"
