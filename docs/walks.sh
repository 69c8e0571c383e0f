#!/usr/bin/env bash
# The "strace walk" of every model's reference page: each model binary under
# `strace -f`, one `GET /numbers.txt` on a connection of its own, and the
# system calls that served it, written to docs/src/walks/BINARY.txt for the
# reference page to include. Nothing in those files is typed by hand.
#
#   docs/walks.sh            (every binary; needs strace: apt-get install strace)
#   docs/walks.sh epoll      (one)
#   docs/walks.sh timer      (experiment 2: epoll --trace, a timer and a request)
#   docs/walks.sh uring-delay (uring --trace: a request, then a /delay)
#
# Each server runs on a free port and is stopped by its PID. The output keeps
# the calls from the listener's `socket` on, names each PID as strace first
# saw it, `[main]`, `[task 1]`, ... (the kernel's word for a thread or a
# process alike), stops at the SIGTERM that ends the server, and
# folds a run of one repeated line (the busy-poll server's EAGAINs) into one
# line with a count.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v strace >/dev/null || { echo "walks.sh: needs strace (apt-get install strace)" >&2; exit 1; }
cargo build --release -q --workspace --exclude bench --bins
mkdir -p docs/src/walks

# What each model's walk shows, besides the network calls.
calls() {
    case $1 in
    blocking) echo network,read,write,close ;;
    forking) echo network,clone,close,rt_sigaction,prctl,exit_group,wait4,rt_sigtimedwait ;;
    threaded) echo network,clone3,mmap,mprotect,munmap,close,exit ;;
    nonblocking) echo network,close ;;
    select) echo network,select,pselect6,close ;;
    poll) echo network,poll,ppoll,close ;;
    epoll) echo network,epoll_create1,epoll_wait,epoll_pwait,epoll_ctl,close ;;
    epoll-mio) echo network,epoll_create1,epoll_wait,epoll_pwait,epoll_ctl,eventfd2,close ;;
    signal_driven) echo network,rt_sigtimedwait,fcntl,close ;;
    coroutine) echo network,read,write,epoll_wait,epoll_pwait,epoll_ctl,close ;;
    async_await) echo network,read,write,epoll_wait,epoll_pwait,epoll_ctl,timerfd_settime,close ;;
    uring) echo network,io_uring_setup,io_uring_enter,io_uring_register,close ;;
    tokio_ref) echo network,epoll_create1,epoll_wait,epoll_pwait,epoll_ctl,eventfd2,write,futex,close ;;
    *) echo network,close ;;
    esac
}

# `GET PATH` with `Connection: close`, in one write, as curl sends it.
request() {
    local crlf=$'\r\n'
    printf '%s' "GET $1 HTTP/1.1${crlf}Host: $2${crlf}Connection: close${crlf}${crlf}"
}

# The address in the `listening on` line the server (PID $2, named $3)
# writes to file $1, waited for up to 5 s; the server is stopped if none.
listening() {
    local addr=""
    for _ in $(seq 100); do
        addr=$(sed -n 's/^listening on //p' "$1")
        [ -n "$addr" ] && { echo "$addr"; return; }
        sleep 0.05
    done
    echo "walks.sh: $3 did not listen" >&2
    kill "$2"
    exit 1
}

walk() {
    local bin=$1 scratch
    scratch=$(mktemp -d)
    strace -f -qq -o "$scratch/trace" -e trace="$(calls "$bin")" \
        "target/release/$bin" --addr 127.0.0.1:0 >"$scratch/out" 2>/dev/null &
    local strace_pid=$! addr
    addr=$(listening "$scratch/out" "$strace_pid" "$bin")
    sleep 0.2
    # One request, on a connection of its own, written as curl would.
    exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}"
    request "/numbers.txt" "$addr" >&3
    cat <&3 >/dev/null
    exec 3<&-
    sleep 0.3
    # Stop the server (strace's child) by its PID; strace ends with it.
    local server_pid
    server_pid=$(pgrep -P "$strace_pid" | head -1)
    kill -TERM "$server_pid"
    wait "$strace_pid" || true
    {
        echo "\$ strace -f -e trace=$(calls "$bin") target/release/$bin"
        python3 - "$scratch/trace" "$bin" <<'EOF'
import re, sys
path, binary = sys.argv[1], sys.argv[2]
lines = open(path).read().splitlines()
# From the set-up of the listener (or the ring, which comes first) ...
start = next((i for i, l in enumerate(lines) if re.search(r" (socket|io_uring_setup)\(", l)), 0)
# ... to the SIGTERM that stops the server: the signal thread shuts the
# listener down (SHUT_RD), and the shutdown is another chapter's story.
end = next((i for i, l in enumerate(lines) if "SHUT_RD" in l or "si_signo=SIGTERM" in l), len(lines))
lines = lines[start:end]  # the last call is the wait the SIGTERM ended: <unfinished ...>
names, out, last, count = {}, [], None, 0
def flush():
    if last is not None:
        out.append(last if count == 1 else f"{last}   ... {count} times in all")
for line in lines:
    pid, _, call = line.partition(" ")
    if "+++ killed by" in call or "--- SIGTERM" in call or "+++ exited" in call:
        continue
    name = names.setdefault(pid, "main" if not names else f"task {len(names)}")
    call = re.sub(r"0x[0-9a-f]{6,}", "0x...", call)  # addresses differ every run
    call = re.sub(r"sin_port=htons\(\d+\)", "sin_port=htons(...)", call)
    if len(call) > 150:  # the ring's probe lists every opcode the kernel has
        call = call[:130] + " ... " + call[call.rfind(")") :]
    text = f"[{name}] {call}"
    if text == last:
        count += 1
        continue
    flush()
    last, count = text, 1
flush()
print("\n".join(out))
EOF
    } >"docs/src/walks/$bin.txt"
    rm -rf "$scratch"
    echo "walks.sh: docs/src/walks/$bin.txt ($(wc -l <"docs/src/walks/$bin.txt") lines)"
}

# Starts `BINARY --trace` ($1) on a free port, its stdout and its trace in
# a new scratch directory; sets the caller's $scratch, $server_pid, $addr.
start_traced() {
    scratch=$(mktemp -d)
    target/release/"$1" --addr 127.0.0.1:0 --trace >"$scratch/out" 2>"$scratch/trace" &
    server_pid=$!
    addr=$(listening "$scratch/out" "$server_pid" "$1")
}

# Experiment 2 of the sources, deferred work on the loop's timer: `epoll
# --trace` while one client waits on `/delay/300` and another, 50 ms later,
# asks for `/numbers.txt`. The trace shows the timer armed, the second
# request served while the first waits, and the timer firing.
timer_walk() {
    local scratch server_pid addr
    start_traced epoll
    exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}"
    request /delay/300 "$addr" >&3
    sleep 0.05
    exec 4<>"/dev/tcp/${addr%:*}/${addr#*:}"
    request /numbers.txt "$addr" >&4
    cat <&4 >/dev/null
    cat <&3 >/dev/null
    exec 3<&- 4<&-
    sleep 0.1
    kill -TERM "$server_pid"
    wait "$server_pid" || true
    # From the first accept to the delayed answer's close.
    sed -n '/accept/,$p' "$scratch/trace" | sed '/SIGTERM\|signal\|shutting/,$d' >docs/src/walks/timer.txt
    rm -rf "$scratch"
    echo "walks.sh: docs/src/walks/timer.txt ($(wc -l <docs/src/walks/timer.txt) lines)"
}

# The uring reference's "A /delay, traced": `uring --trace`, one
# keep-alive `GET /numbers.txt` read to its length and closed (as curl
# does), then a second
# connection that asks `/delay/200` and closes its side at once, as
# `printf ... | nc -q1` does. The trace shows each io_uring_enter, what it
# submitted and what completed.
uring_delay_walk() {
    local scratch server_pid addr
    start_traced uring
    python3 -c '
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
# As curl does: a keep-alive request, the answer read to its length, close.
s = socket.create_connection((host, int(port)))
s.sendall(b"GET /numbers.txt HTTP/1.1\r\nHost: x\r\n\r\n")
got = b""
while b"\r\n\r\n" not in got or len(got) < got.index(b"\r\n\r\n") + 4 + int(
        [l for l in got.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1]):
    got += s.recv(65536)
s.close()
time.sleep(0.1)
# As printf ... | nc -q1 does: the request, the end of the input, the answer.
s = socket.create_connection((host, int(port)))
s.sendall(b"GET /delay/200 HTTP/1.1\r\n\r\n")
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
' "$addr"
    sleep 0.1
    kill -TERM "$server_pid"
    wait "$server_pid" || true
    # From the first io_uring_enter to the delayed answer's close.
    sed -n '/io_uring_enter/,$p' "$scratch/trace" | sed '/SIGTERM\|signal\|shutting\|shutdown/,$d' \
        >docs/src/walks/uring-delay.txt
    rm -rf "$scratch"
    echo "walks.sh: docs/src/walks/uring-delay.txt ($(wc -l <docs/src/walks/uring-delay.txt) lines)"
}

if [ "${1:-}" = timer ]; then
    timer_walk
elif [ "${1:-}" = uring-delay ]; then
    uring_delay_walk
elif [ $# -gt 0 ]; then
    for bin in "$@"; do walk "$bin"; done
else
    for bin in blocking forking threaded nonblocking select poll epoll epoll-mio signal_driven coroutine async_await uring tokio_ref; do
        walk "$bin"
    done
    timer_walk
    uring_delay_walk
fi
