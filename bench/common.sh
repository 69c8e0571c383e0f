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
