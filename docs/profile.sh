#!/usr/bin/env bash
# Where a request's time goes: `perf record` (cpu-clock samples) of a server
# answering `GET /bytes/65536` over 100 keep-alive connections, the server
# pinned to CPU 0 and `bench load` to CPU 1, written by function, busiest
# first, to docs/src/results/profile-BINARY.txt for the chapter to include.
# Nothing in those files is typed by hand.
#
#   docs/profile.sh              (epoll and uring)
#   docs/profile.sh epoll        (one)
#   docs/profile.sh growth       (why a request costs more at c10,000:
#                                 epoll and the bench at c100 and c10,000,
#                                 docs/src/results/profile-growth.md)
#
# Needs perf (apt-get install linux-perf) and, to name the kernel's
# functions, kernel.kptr_restrict=0 (set here, as root).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v perf >/dev/null || { echo "profile.sh: needs perf (apt-get install linux-perf)" >&2; exit 1; }
cargo build --release -q -p bench -p epoll -p uring
sysctl -q -w kernel.kptr_restrict=0 kernel.perf_event_paranoid=-1 || true
mkdir -p docs/src/results
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

if [ "${1:-}" = growth ]; then
  exec python3 docs/profile-growth.py
fi

port=7860
for bin in "${@:-epoll uring}"; do
  for one in $bin; do
    port=$((port + 1))
    taskset -c 0 "target/release/$one" --addr "127.0.0.1:$port" >"$scratch/$one.log" 2>&1 &
    server=$!
    sleep 0.5
    taskset -c 1 target/release/bench load "http://127.0.0.1:$port/bytes/65536" -c 100 -d 4 \
      >"$scratch/$one.load" 2>&1 &
    load=$!
    sleep 1 # past the ramp-up
    perf record -q -e cpu-clock -F 4999 -p "$server" -o "$scratch/$one.data" -- sleep 2 2>/dev/null
    wait "$load"
    kill "$server"
    wait "$server" 2>/dev/null || true
    {
      echo "# $one: GET /bytes/65536, c100, 2 s of cpu-clock samples of the server (perf record -p)"
      echo "# where: share of samples in the kernel, the program, and each library"
      perf report -i "$scratch/$one.data" --stdio --no-children --sort dso -q 2>/dev/null |
        sed -e 's/ \+$//' | grep -v '^$'
      echo "# by function: share of samples, where, function; above 1.5%"
      perf report -i "$scratch/$one.data" --stdio --no-children --sort dso,sym \
        --percent-limit 1.5 -q 2>/dev/null |
        sed -e 's/ \+$//' -e 's/\[\.\] /user    /' -e 's/\[k\] /kernel  /' | grep -v '^$'
      # What a registered ring fd would spare: looking up the fd of each
      # system call that names one (fget/fdget and fput).
      perf report -i "$scratch/$one.data" --stdio --no-children --sort sym -q 2>/dev/null |
        awk '$3 ~ /^(fget|fdget|__fget_light|fput|fdput)$/ { sub("%", "", $1); sum += $1 }
             END { printf "# looking up fds (fget, fdget, fput): %.2f%% of the samples\n", sum }'
    } >"docs/src/results/profile-$one.txt"
    echo "profile.sh: wrote docs/src/results/profile-$one.txt"
  done
done
