# Shared by the bench comparison scripts; source it, do not run it.

# The median of the numbers on stdin, one a line.
median() {
    sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Reads a `bench load --json` report on stdin and prints its requests/s. A run
# with any error is no figure to compare: it says so on stderr and fails.
bench_rate() {
    python3 -c '
import json, sys
report = json.load(sys.stdin)
errors = report["errors"]
if sum(errors.values()):
    sys.exit("bench run had errors: %s" % errors)
print(report["requests_per_s"])'
}

# Reads a `bench load --json` report on stdin and prints its requests/s and
# its error count, for runs where errors are part of the result (a pool's
# waiting clients time out).
rate_errors() {
    python3 -c '
import json, sys
r = json.load(sys.stdin)
print("%.0f %d" % (r["requests_per_s"], sum(r["errors"].values())))'
}

# start_server BINARY [FLAGS...]: starts target/release/BINARY with FLAGS on
# a free port, pinned to the CPUs in $server_cpus (default: CPU 0), and waits
# for its `listening on` line. Sets $server_pid and $server_addr
# (127.0.0.1:PORT); fails if the server never says it listens.
start_server() {
    local bin=$1 out
    shift
    out=$(mktemp)
    taskset -c "${server_cpus:-0}" "target/release/$bin" --addr 127.0.0.1:0 "$@" >"$out" 2>/dev/null &
    server_pid=$!
    for _ in $(seq 1 100); do grep -q '^listening on' "$out" && break; sleep 0.05; done
    server_addr=$(sed -n 's/^listening on //p' "$out")
    rm -f "$out"
    [ -n "$server_addr" ] || { echo "$bin did not start" >&2; return 1; }
}

# compare ROUNDS TOOL: ROUNDS alternating rounds of `run_TOOL` and `run_bench`
# (functions the calling script defines, each printing one requests/s
# figure), then the median of each and bench/TOOL.
compare() {
    local rounds=$1 tool=$2 round t b
    local tool_rates=() bench_rates=()
    for round in $(seq 1 "$rounds"); do
        t=$("run_$tool")
        b=$(run_bench)
        echo "round $round: $tool $t req/s, bench $b req/s"
        tool_rates+=("$t") bench_rates+=("$b")
    done
    t=$(printf '%s\n' "${tool_rates[@]}" | median)
    b=$(printf '%s\n' "${bench_rates[@]}" | median)
    echo "median: $tool $t req/s, bench $b req/s, bench/$tool = $(awk -v b="$b" -v t="$t" 'BEGIN { printf "%.3f", b / t }')"
}

# stop: ends the server started by start_server ($server_pid), if any, and
# waits for it.
stop() {
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=''
}

# load NAME PATH [BENCH FLAGS...]: starts the variant NAME (its command line
# is ${cmd[NAME]}, a table the calling script declares), runs `bench load`
# on PATH for 5 s with the flags, prints its requests/s and error count
# (rate_errors), and stops the server.
load() {
    local name=$1 path=$2
    shift 2
    # shellcheck disable=SC2086
    start_server ${cmd[$name]}
    taskset -c 1 target/release/bench load "http://$server_addr$path" "$@" -d5 --json 2>/dev/null | rate_errors
    stop
}

# hold NAME N: starts the variant NAME (${cmd[NAME]}) with --max-conns 20000,
# runs `bench hold -n N -d 10` against it (the default ramp, 10 every 10 ms)
# with its pid, prints how many it held and its RSS per held connection,
# and stops the server. Needs $result, a scratch file.
hold() {
    local name=$1 n=$2
    # shellcheck disable=SC2086
    start_server ${cmd[$name]} --max-conns 20000
    taskset -c 1 target/release/bench hold "http://$server_addr/numbers.txt" -n "$n" -d 10 \
        --pid "$server_pid" --json >"$result" 2>/dev/null
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("  %-13s held %d of %d (at the end %d); refused %d, reset %d, timed out %d, bad %d" % (
    sys.argv[2], r["held_max"], r["target"], r["held_at_end"], r["refused"], r["reset"], r["timed_out"], r["bad_answers"]))
print("  %-13s RSS %.1f MB before, %.1f MB holding: %.0f bytes per held connection" % (
    "", r["server_rss_before"] / 1e6, r["server_rss_full"] / 1e6, r["server_bytes_per_connection"]))' \
        "$result" "${cmd[$name]}"
    stop
}

# delays C NAME...: `bench load -cC -d5 /delay/100` against each variant
# (ideal C * 10 req/s: C clients, each waiting 100 ms per answer), one line
# each with its requests/s and errors. Needs $result.
delays() {
    local c=$1 name rate err
    shift
    echo "bench load -c$c -d5 /delay/100 (ideal $((c * 10)) req/s):"
    for name in "$@"; do
        load "$name" /delay/100 -c"$c" >"$result"
        read -r rate err <"$result"
        printf '  %-13s %8.0f req/s  %6s errors\n' "$name" "$rate" "$err"
    done
}
