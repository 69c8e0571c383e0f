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
