#!/usr/bin/env python3
"""The figures of the exercises' solutions, measured.

    python3 docs/solutions/measure.py [--only NAME,NAME]   (as root, ~10 minutes)

Writes docs/src/results/solutions.md: one `ANCHOR` per exercise
(`epoll-1`, `uring-4`, ...), which the chapters' solutions include. With
`--only`, only those sections are measured again; the others are kept
from the file.

Two kinds of figure:
- **From the book's runs**: rows of `compare.json` and `sweeps.json`
  (`cargo run --release -p bench -- compare --book` and `--sweeps --book`), the
  median of their rounds, so a solution quotes the same run as the
  chapter's tables.
- **Measured here**: short runs of the release binaries, the server pinned
  to CPU 0 and the client to CPU 1, as the bench does. A section whose
  exercise changes the code builds the solution's patch
  (docs/solutions/NAME.patch) in a scratch copy of the tree
  (target/solutions-release) and measures that binary beside the
  unchanged one, in rounds taken in turn.

Every server this script starts it ends by its PID.
"""
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RELEASE = os.path.join(ROOT, "target/release")
RESULTS = os.path.join(ROOT, "docs/src/results")
OUT = os.path.join(RESULTS, "solutions.md")
SERVER_CPU, CLIENT_CPU = "0", "1"

SECTIONS = {}


def section(function):
    SECTIONS[function.__name__.replace("_", "-").replace("async-await", "async_await")
             .replace("signal-driven", "signal_driven").replace("epoll-mio", "epoll-mio")] = function
    return function


# ---------------------------------------------------------------- helpers

def median(values):
    return statistics.median(values)


def spread(values):
    return f"{fmt(median(values))} [{fmt(min(values))}–{fmt(max(values))}]"


def fmt(x):
    if x is None:
        return "n/a"
    if isinstance(x, int) or (isinstance(x, float) and abs(x) >= 100):
        return f"{round(x):,}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}" if abs(x) >= 1 else f"{x:.3f}"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def load_json(name):
    with open(os.path.join(RESULTS, name)) as f:
        return json.load(f)


def compare(server, scenario, key="value"):
    """The median over the rounds of the book's run: `value` (the cell's
    figure) or a field of the server's costs (`syscalls_per_request`)."""
    data = load_json("compare.json")
    column = [s["name"] for s in data["scenarios"]].index(scenario)
    row = next(r for r in data["rows"] if r["server"]["name"] == server)
    return rounds_median(row["cells"][column], key)


def rounds_median(cell, key):
    """A cell's median over its rounds: its figure (`value`), a field the
    bench added (`extra`), or one of the server's costs; None if it has none."""
    values = [r["value"] if key == "value" else (r.get("extra") or {}).get(key, r["server"].get(key))
              for r in cell["rounds"]]
    values = [v for v in values if v is not None]
    return median(values) if values else None


def sweep(name, server, point, key="value"):
    data = load_json("sweeps.json")
    s = next(s for s in data["sweeps"] if s["name"] == name)
    row = next(r for r in s["rows"] if r["server"]["name"] == server)
    cell = row["cells"][s["points"].index(point)]
    return rounds_median(cell, key) if cell["outcome"] == "ran" else None


def book_run_note():
    data = load_json("compare.json")
    return (f"From the book's run (`compare --book`: {data['rounds']} rounds of {data['run_s']:g} s, "
            "medians), the same run as the chapter's tables.")


def sweep_note():
    data = load_json("sweeps.json")
    return (f"From the book's sweeps (`compare --sweeps`: {data['rounds']} rounds of "
            f"{data['run_s']:g} s per step, medians).")


class Server:
    """A release binary started pinned on a free port, ended by its PID."""

    def __init__(self, binary, *args, prlimit=None, stderr=subprocess.DEVNULL):
        command = ["taskset", "-c", SERVER_CPU, binary, "--addr", "127.0.0.1:0", *args]
        if prlimit:
            command = ["prlimit", f"--nofile={prlimit}:{prlimit}", *command]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
        line = self.process.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"{binary} {args}: no 'listening on' line: {line!r}")
        self.port = int(match.group(1))
        self.pid = self.process.pid
        self.url = f"http://127.0.0.1:{self.port}"
        time.sleep(0.2)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def cpu_ticks(self):
        total = 0
        for task in os.listdir(f"/proc/{self.pid}/task"):
            with open(f"/proc/{self.pid}/task/{task}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total

    def status(self, field):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])  # kB
        return None

    def fds(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))


def bench(*args):
    """`bench ARGS --json`, pinned to the client's CPU; its report."""
    command = ["taskset", "-c", CLIENT_CPU, os.path.join(RELEASE, "bench"), *[str(a) for a in args], "--json"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"bench {args}: {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout)


def cpu_share(server, seconds=2.0):
    hz = os.sysconf("SC_CLK_TCK")
    before = server.cpu_ticks()
    time.sleep(seconds)
    return (server.cpu_ticks() - before) / hz / seconds


def get_ms(port, path="/numbers.txt"):
    """One GET on a new connection: milliseconds to the whole answer."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        while s.recv(65536):
            pass
    return (time.monotonic() - started) * 1000


def in_turn(binaries, measure, rounds=3):
    """`measure(server)` for each binary, rounds taken in turn: {name: [result, ...]}."""
    results = {name: [] for name in binaries}
    for _ in range(rounds):
        for name, binary in binaries.items():
            with Server(binary) as server:
                results[name].append(measure(server))
    return results


def ab_rate(server, path, requests):
    """`ab -n REQUESTS -c 100` (no keep-alive) against the server: req/s."""
    out = subprocess.run(["taskset", "-c", CLIENT_CPU, "ab", "-q", "-n", str(requests), "-c", "100",
                          f"http://127.0.0.1:{server.port}{path}"],
                         capture_output=True, text=True, timeout=120).stdout
    return float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))


def release(binary):
    return os.path.join(RELEASE, binary)


_PATCHED = {}


def patched(patch, binary):
    """`binary` built in release from a scratch copy of the tree with
    docs/solutions/PATCH.patch applied; its path."""
    key = (patch, binary)
    if key in _PATCHED:
        return _PATCHED[key]
    scratch = tempfile.mkdtemp(prefix="solution-")
    try:
        files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        tar = subprocess.Popen(["tar", "--null", "-T", "-", "-cf", "-"], cwd=ROOT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE)
        untar = subprocess.Popen(["tar", "-xf", "-", "-C", scratch], stdin=tar.stdout)
        tar.stdin.write(files)
        tar.stdin.close()
        tar.wait()
        untar.wait()
        subprocess.run(["git", "apply", os.path.join(ROOT, "docs/solutions", patch + ".patch")],
                       cwd=scratch, check=True)
        env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(ROOT, "target/solutions-release"))
        subprocess.run(["cargo", "build", "--release", "-q", "--bin", binary], cwd=scratch, env=env,
                       check=True)
        out = os.path.join(ROOT, "target/solutions-release", f"{binary}-{patch}")
        shutil.copy(os.path.join(ROOT, "target/solutions-release/release", binary), out)
    finally:
        shutil.rmtree(scratch)
    _PATCHED[key] = out
    return out


def trace_two_requests(binary, *args):
    """The --trace lines of two requests (curl's) on one keep-alive
    connection: docs/solutions/trace.sh, the checks' own, without the
    timestamps."""
    out = subprocess.run(["bash", os.path.join(ROOT, "docs/solutions/trace.sh"), binary, *args],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [re.sub(r"^\[\s*[\d.]+ ", "[", line) for line in out.splitlines()]


def hold(server, count, seconds=3, ramp="100/10ms"):
    return bench("hold", server.url + "/numbers.txt", "-n", count, "-d", seconds, "--ramp", ramp,
                 "--pid", server.pid)


def held_vmsize(server, count, seconds=4):
    """Hold `count` connections; the server's bytes per connection (bench's
    figure) and its VmSize (kB) while they are held."""
    vmsize = []
    sampler = threading.Timer(seconds / 2 + count / 10000 + 0.5, lambda: vmsize.append(server.status("VmSize")))
    sampler.start()
    report = hold(server, count, seconds)
    sampler.join()
    return report, vmsize[0] if vmsize else None


# ---------------------------------------------------------------- blocking

@section
def blocking_1():
    binary = release("blocking")
    times = []
    for _ in range(3):
        with Server(binary, "--idle-timeout", "3") as server:
            idle = socket.create_connection(("127.0.0.1", server.port))
            time.sleep(0.05)
            started = time.monotonic()
            out = subprocess.run(["curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                                  f"{server.url}/"], capture_output=True, text=True)
            took = time.monotonic() - started
            idle.close()
            times.append((took, out.stdout))
    rows = [[k + 1, f"{t:.2f} s", code] for k, (t, code) in enumerate(times)]
    return ("`blocking --idle-timeout 3`, one idle `nc`-like connection first, then `curl -m 5` "
            "(3 runs):\n\n" + table(["run", "curl waited", "status"], rows))


@section
def blocking_2():
    rows = []
    for path in ["/delay/10", "/cpu/10000"]:
        with Server(release("blocking")) as server:
            rows.append([f"`{path}`", fmt(ab_rate(server, path, 500))])
    return ("`ab -n 500 -c 100` against `blocking` (500 requests, not 2,000, to keep the run short):"
            "\n\n" + table(["URL", "req/s"], rows))


@section
def blocking_3():
    binaries = {"as it is": release("blocking"), "closing after one response": patched("blocking-3", "blocking")}
    rates = in_turn(binaries, lambda server: ab_rate(server, "/numbers.txt", 5000))
    return ("`ab -n 5000 -c 100` (no `-k`), 3 rounds taken in turn, median [min–max]:\n\n"
            + table(["server", "req/s"], [[n, spread(v)] for n, v in rates.items()]))


@section
def blocking_4():
    lines = trace_two_requests(patched("blocking-4", "blocking"))
    reads = [l for l in lines if "read fd=" in l]
    return (f"`blocking --trace` with the 16-byte buffer, two requests from `curl` on one "
            f"connection: {len(reads)} `read` lines, the first of them:\n\n```text\n"
            + "\n".join(reads[:5]) + "\n```")


# ---------------------------------------------------------------- forking

@section
def forking_1():
    rows = []
    for server in ["forking", "threaded", "epoll"]:
        rows.append([f"`{server}`", fmt(compare(server, "close")),
                     fmt(compare(server, "close", "cpu_us_per_request")),
                     fmt(compare(server, "close", "syscalls_per_request"))])
    out = subprocess.run(["taskset", "-c", SERVER_CPU, os.path.join(RELEASE, "examples", "spawn_cost")],
                         capture_output=True, text=True, timeout=300).stdout.strip()
    return (book_run_note() + " A new connection for every request, c100:\n\n"
            + table(["server", "req/s", "CPU µs per request", "system calls per request"], rows)
            + "\n\n`cargo run --release -p forking --example spawn_cost`:\n\n```text\n" + out + "\n```")


@section
def forking_2():
    with Server(release("forking")) as server:
        report = hold(server, 1000, 3)
    return (f"`bench hold URL -n 1000 --pid PID` against `forking`: {report['held_max']:,} held, "
            f"**{fmt(report['server_bytes_per_connection'] / 1024)} KiB** of resident memory per "
            f"connection (the parent and its children together).")


# ---------------------------------------------------------------- threaded

@section
def threaded_1():
    rows = [[f"`{s}`", fmt(compare(s, "keepalive", "context_switches_per_request")),
             fmt(compare(s, "keepalive", "voluntary_switches_per_request")),
             fmt(compare(s, "keepalive"))] for s in ["threaded", "epoll"]]
    return (book_run_note() + " Keep-alive, c100:\n\n"
            + table(["server", "context switches per request", "of them voluntary", "req/s"], rows))


@section
def threaded_2():
    rows = []
    with Server(release("threaded"), "--pool", "4") as server:
        for label, extra in [("keep-alive", []), ("`--no-keepalive`", ["--no-keepalive"])]:
            r = bench("load", server.url + "/numbers.txt", "-c", 8, "-d", 3, *extra)
            rows.append([label, fmt(r["requests_per_s"]), r["per_connection_min"], r["per_connection_max"],
                         r["errors"]["timeout"]])
    return ("`threaded --pool 4`, `bench load URL -c 8 -d 3`:\n\n"
            + table(["connections", "req/s", "per conn. min", "per conn. max", "timed out"], rows))


@section
def threaded_3():
    rows = []
    for name, binary in [("bounded (0)", release("threaded")),
                         ("unbounded", patched("threaded-3", "threaded"))]:
        with Server(binary, "--pool", "8") as server:
            before = server.fds()
            clients = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(20)]
            time.sleep(0.5)
            rows.append([name, before, server.fds()])
            for c in clients:
                c.close()
    return ("`threaded --pool 8`, 20 idle clients connected (`ls /proc/PID/fd | wc -l`):\n\n"
            + table(["channel", "server's fds before", "with 20 idle clients"], rows))


def stacks(binary, sizes, count, what):
    """`count` connections held against `binary --stack-size S` for each
    size: resident memory per connection against address space."""
    rows = []
    for size in sizes:
        with Server(release(binary), "--stack-size", size) as server:
            report, vmsize = held_vmsize(server, count)
            rows.append([f"`--stack-size {size}`", report["held_max"],
                         fmt(report["server_bytes_per_connection"] / 1024) + " KiB",
                         fmt(vmsize / 1024) + " MiB" if vmsize else "?"])
    return (f"{count:,} connections held (`bench hold URL -n {count} --pid PID`):\n\n"
            + table([what, "held", "RSS per connection", "VmSize while held"], rows))


@section
def threaded_4():
    return stacks("threaded", ["32768", "1048576"], 2000, "threads' stacks")


# ---------------------------------------------------------------- nonblocking

@section
def nonblocking_1():
    rows = []
    with Server(release("nonblocking")) as server:
        idle_cpu = cpu_share(server)
        latency = median([get_ms(server.port) for _ in range(20)])
        rows.append(["none", f"{idle_cpu:.0%}", f"{latency:.2f} ms"])
        holder = threading.Thread(target=lambda: hold(server, 1000, 6))
        holder.start()
        time.sleep(2)
        busy_cpu = cpu_share(server)
        latency = median([get_ms(server.port) for _ in range(20)])
        holder.join()
        rows.append(["1,000 idle", f"{busy_cpu:.0%}", f"{latency:.2f} ms"])
    return ("`nonblocking`, its CPU over 2 s and the median time of 20 `GET`s on new connections:\n\n"
            + table(["clients held", "server CPU", "one GET"], rows))


@section
def nonblocking_2():
    binaries = {"busy loop": release("nonblocking"), "1 ms nap per pass": patched("nonblocking-2", "nonblocking")}
    rows = []
    for name, binary in binaries.items():
        with Server(binary) as server:
            idle = cpu_share(server)
            ka = bench("load", server.url + "/numbers.txt", "-c", 100, "-d", 3)
            delay = bench("load", server.url + "/delay/100", "-c", 10, "-d", 3)
        rows.append([name, f"{idle:.0%}", fmt(ka["requests_per_s"]),
                     f"{delay['latency']['p50_us'] / 1000:.1f} ms"])
    return ("Idle CPU over 2 s, then `bench load` keep-alive c100 and `/delay/100` c10 (3 s each):\n\n"
            + table(["server", "idle CPU", "keep-alive req/s", "`/delay/100` median latency"], rows))


@section
def nonblocking_4():
    rows = [[f"`{s}`", fmt(sweep("concurrency-sweep", s, 1)),
             fmt(sweep("concurrency-sweep", s, 1, "cpu_us_per_request")),
             fmt(sweep("concurrency-sweep", s, 1, "p99_ms"))] for s in ["nonblocking", "select", "epoll"]]
    return (sweep_note() + " One connection (c1):\n\n"
            + table(["server", "req/s", "CPU µs per request", "p99 ms"], rows))


# ---------------------------------------------------------------- select and poll

@section
def select_1():
    rows = []
    for s in ["select", "poll", "nonblocking", "epoll"]:
        rows.append([f"`{s}`"] + [fmt(v) if v is not None else "n/a" for v in
                                  [sweep("concurrency-sweep", s, c) for c in (100, 1000)]
                                  + [sweep("concurrency-sweep", s, 1000, "cpu_us_per_request")]])
    return (sweep_note() + "\n\n" + table(["server", "req/s at c100", "req/s at c1,000",
                                            "CPU µs per request at c1,000"], rows))


@section
def select_2():
    with Server(release("select"), "--max-conns", "10", "--trace", stderr=subprocess.PIPE) as server:
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(server.process.stderr), daemon=True)
        reader.start()
        report = hold(server, 20, 2, ramp="20/10ms")
        server.stop()
        reader.join(2)
    refusals = [re.sub(r"^\[\s*[\d.]+ ", "[", l.rstrip()) for l in lines if "max-conns" in l or "refus" in l]
    return (f"`select --max-conns 10 --trace`, `bench hold URL -n 20 -d 2`: the trace has "
            f"**{len(refusals)}** `refuse` lines, the first two:\n\n```text\n" + "\n".join(refusals[:2])
            + "\n```\n\nand the bench's report says:\n\n"
            + table(["held at most", "held at the end", "refused", "reset"],
                    [[report["held_max"], report["held_at_end"], report["refused"], report["reset"]]]))


@section
def select_3():
    rows = []
    for name, binary in [("as it is", release("select")), ("always in the write set", patched("select-3", "select"))]:
        with Server(binary) as server:
            client = socket.create_connection(("127.0.0.1", server.port))
            time.sleep(0.3)
            rows.append([name, f"{cpu_share(server):.0%}"])
            client.close()
    return "`select` with one idle keep-alive client, CPU over 2 s:\n\n" + table(["server", "CPU"], rows)


@section
def select_4():
    with Server(patched("select-4", "select")) as server:
        report = hold(server, 100, 2, ramp="100/10ms")
    return (f"The patched `select` (1,000 files open), `bench hold URL -n 100`: held at most "
            f"**{report['held_max']}**, refused {report['refused']}, reset {report['reset']}.")


def hold_cost(server, count=5000, seconds=10):
    """The server's CPU while `count` idle connections are held, each sending
    a HEAD now and then: its share of a core, and µs per HEAD answered."""
    report = hold(server, count, seconds, ramp="500/10ms")
    return report["server"]["cpu_share"], report["server"]["cpu_us_per_request"], report["requests"]


@section
def poll_1():
    rows = []
    for name in ["poll", "epoll"]:
        with Server(release(name)) as server:
            share, per_head, heads = hold_cost(server)
        rows.append([f"`{name}`", f"{heads:,}", f"{share:.0%}", fmt(per_head)])
    return ("`bench hold URL -n 5000 -d 10 --ramp 500/10ms --pid PID`: 5,000 connections, each "
            "sending a `HEAD` at a random interval of 1 to 30 s:\n\n"
            + table(["server", "HEADs answered", "server CPU", "CPU µs per HEAD"], rows))


@section
def poll_2():
    binaries = {"array built per call": release("poll"), "array kept": patched("poll-2", "poll")}
    costs = in_turn(binaries, hold_cost)
    rows = [[n, spread([share * 100 for share, _, _ in c]) + "%", spread([per for _, per, _ in c])]
            for n, c in costs.items()]
    return ("`bench hold URL -n 5000 -d 10 --ramp 500/10ms --pid PID`, 3 rounds in turn, "
            "median [min–max]:\n\n" + table(["poll", "server CPU", "CPU µs per HEAD"], rows))


# ---------------------------------------------------------------- epoll

@section
def epoll_1():
    rows = [[f"`{s}`"] + [fmt(sweep("idle-sweep", s, n)) for n in (0, 1000, 5000, 19000)]
            for s in ["poll", "epoll"]]
    return (sweep_note() + " Requests/s of 10 busy clients beside idle connections:\n\n"
            + table(["server", "0 idle", "1,000 idle", "5,000 idle", "19,000 idle"], rows))


def flood_and_probe(binary):
    """An edge-triggered echo server; one client streams 2 MiB in 64-byte
    pieces while reading, and `bench echo -c 1` measures another."""
    with Server(binary, "--proto", "echo", "--trigger", "edge", "--trace", stderr=subprocess.PIPE) as server:
        budget = [0]

        def count():
            for line in server.process.stderr:
                if "budget of" in line and "reads spent" in line:
                    budget[0] += 1
        counter = threading.Thread(target=count, daemon=True)
        counter.start()
        s = socket.create_connection(("127.0.0.1", server.port))
        total = 2 * 1024 * 1024
        drained = threading.Thread(target=lambda: _drain(s, total))
        drained.start()
        piece = b"x" * 64
        probe = {}
        prober = threading.Thread(target=lambda: probe.update(
            bench("echo", f"127.0.0.1:{server.port}", "-c", 1, "-d", 2)))
        prober.start()
        for _ in range(total // 64):
            s.sendall(piece)
        drained.join(30)
        prober.join()
        s.close()
        server.stop()
        counter.join(2)
        return budget[0], probe


def _drain(s, total):
    got = 0
    while got < total:
        data = s.recv(65536)
        if not data:
            break
        got += len(data)


@section
def epoll_2():
    rows = []
    for name, binary in [("16 (as it is)", release("epoll")), ("1,000", patched("epoll-2", "epoll"))]:
        spent, probe = flood_and_probe(binary)
        lat = probe.get("latency", {})
        rows.append([name, spent, fmt(lat.get("p50_us", 0)) + " µs", fmt(lat.get("p99_us", 0)) + " µs",
                     f"{lat.get('max_us', 0) / 1000:.1f} ms"])
    return ("`epoll --proto echo --trigger edge --trace`: one client streams 2 MiB in 64-byte pieces "
            "while reading them back, and `bench echo ADDR -c 1 -d 2` measures a second one meanwhile:\n\n"
            + table(["`READ_BUDGET`", "\"budget spent\" lines", "second client p50", "p99", "max"], rows))


@section
def epoll_4():
    rows = []
    with Server(release("epoll"), "--workers", "2") as server:
        tasks = sorted(os.listdir(f"/proc/{server.pid}/task"), key=int)

        def ticks():
            out = {}
            for t in tasks:
                with open(f"/proc/{server.pid}/task/{t}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                out[t] = int(fields[11]) + int(fields[12])
            return out
        for run in range(5):
            before = ticks()
            bench("load", server.url + "/numbers.txt", "-c", 4, "-d", 2)
            after = ticks()
            used = sorted((after[t] - before[t] for t in tasks), reverse=True)[:2]
            total = sum(used) or 1
            rows.append([run + 1, f"{used[0] / total:.0%} / {used[1] / total:.0%}"])
    return ("`epoll --workers 2`, `bench load URL -c 4 -d 2` five times; the two busiest threads' "
            "shares of the server's CPU in each run:\n\n" + table(["run", "worker A / worker B"], rows))


def answer_or_silence(port, timeout=2.0):
    """A GET on a new connection: its status line, or what happened."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET /numbers.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            data = s.recv(4096)
            return data.split(b"\r\n", 1)[0].decode() if data else "closed, no answer"
    except socket.timeout:
        return f"no answer in {timeout:g} s"
    except OSError as err:
        return str(err)


@section
def epoll_5():
    rows = []
    for name, binary in [("as it is", release("epoll")), ("no reserve fd", patched("epoll-5", "epoll"))]:
        with Server(binary, prlimit=64) as server:
            holder = threading.Thread(target=lambda: hold(server, 100, 9, ramp="100/10ms"))
            holder.start()
            time.sleep(1.5)
            extra = [answer_or_silence(server.port) for _ in range(3)]
            holder.join()
        rows.append([name] + [f"`{e}`" for e in extra])
    return ("`prlimit --nofile=64:64 epoll` holding 100 connections (`bench hold URL -n 100`); "
            "meanwhile three more clients each send a `GET`:\n\n"
            + table(["server", "client 101", "client 102", "client 103"], rows))


@section
def epoll_mio_2():
    rows = [[f"`{s}`", fmt(compare(s, "keepalive", "syscalls_per_request")),
             fmt(compare(s, "keepalive", "cpu_us_per_request")), fmt(compare(s, "keepalive"))]
            for s in ["epoll", "epoll --trigger edge", "epoll-mio"]]
    return (book_run_note() + " Keep-alive, c100:\n\n"
            + table(["server", "system calls per request", "CPU µs per request", "req/s"], rows))


# ---------------------------------------------------------------- signal_driven

@section
def signal_driven_1():
    lines = trace_two_requests(release("signal_driven"))
    return ("`signal_driven --trace`, two requests on one keep-alive connection:\n\n```text\n"
            + "\n".join(lines) + "\n```")


@section
def signal_driven_2():
    rows = []
    for args in [[], ["--sigpending", "1"]]:
        with Server(release("signal_driven"), *args, "--trace", stderr=subprocess.PIPE) as server:
            counts = {"SIGIO": 0, "signal": 0}

            def count():
                for line in server.process.stderr:
                    if "SIGIO" in line or "overflow" in line:
                        counts["SIGIO"] += 1
                    elif "signal: " in line:
                        counts["signal"] += 1
            counter = threading.Thread(target=count, daemon=True)
            counter.start()
            r = bench("load", server.url + "/numbers.txt", "-c", 100, "-d", 1)
            server.stop()
            counter.join(2)
        rows.append([f"`signal_driven {' '.join(args)}`".replace(" `", "`"), fmt(r["requests_per_s"]),
                     counts["signal"], counts["SIGIO"]])
    rates = [[f"`{s}`", fmt(sweep("idle-sweep", s, 0)), fmt(sweep("idle-sweep", s, 5000)),
              fmt(sweep("idle-sweep", s, 19000))] for s in ["signal_driven", "signal_driven --sigpending 1"]]
    return ("`bench load URL -c 100 -d 1` with `--trace` (the trace slows both):\n\n"
            + table(["server", "req/s (traced)", "signals with an fd", "SIGIO / overflow lines"], rows)
            + "\n\n" + sweep_note() + " Requests/s beside idle connections:\n\n"
            + table(["server", "0 idle", "5,000 idle", "19,000 idle"], rates))


# ---------------------------------------------------------------- coroutine

@section
def coroutine_1():
    outs = []
    for workers in ["1", "2", "4"]:
        out = subprocess.run([os.path.join(RELEASE, "examples", "slip"), workers], capture_output=True,
                             text=True, timeout=120).stdout.strip()
        outs.append(f"$ cargo run --release -p coroutine --example slip -- {workers}\n{out}")
    return "```text\n" + "\n\n".join(outs) + "\n```"


@section
def coroutine_2():
    with Server(patched("coroutine-2", "coroutine")) as server:
        r = bench("load", server.url + "/delay/100", "-c", 100, "-d", 5)
    e = r["errors"]
    return (f"The patched `coroutine`, `bench load URL/delay/100 -c 100 -d 5`: "
            f"**{fmt(r['requests_per_s'])} req/s** ({r['requests']:,} answered; "
            f"{e['timeout']:,} timed out after 2 s).")


@section
def coroutine_3():
    return stacks("coroutine", ["8192", "1048576"], 5000, "stacks")


@section
def coroutine_4():
    binaries = {"as it is": release("coroutine"), "`yield_now` before each read": patched("coroutine-4", "coroutine")}
    results = in_turn(binaries, lambda server: bench("load", server.url + "/numbers.txt", "-c", 100, "-d", 3,
                                                     "--pid", server.pid))
    rows = [[n, spread([r["requests_per_s"] for r in rs]),
             fmt(median([r["server"]["syscalls_per_request"] for r in rs])),
             f"{median([r['latency']['max_us'] for r in rs]) / 1000:.1f} ms",
             f"{median([r['per_connection_min'] for r in rs]):,.0f} – {median([r['per_connection_max'] for r in rs]):,.0f}"]
            for n, rs in results.items()]
    return ("`bench load URL -c 100 -d 3 --pid PID`, 3 rounds in turn, medians:\n\n"
            + table(["coroutine", "req/s [min–max]", "system calls per request", "max latency",
                     "requests per connection, min – max"], rows))


# ---------------------------------------------------------------- async_await

@section
def async_await_1():
    lines = trace_two_requests(patched("async_await-1", "async_await"))
    return ("The patched `async_await --trace`, two requests on one keep-alive connection:\n\n```text\n"
            + "\n".join(lines) + "\n```")


@section
def async_await_2():
    sizes = {}
    for name, patch in [("one `async fn`", "async_await-2-size"), ("the loop in a second `async fn`", "async_await-2")]:
        lines = trace_two_requests(patched(patch, "async_await"))
        size = next(re.search(r"(\d+) bytes", l).group(1) for l in lines if "task of fd=" in l)
        sizes[name] = size
    return ("`size_of_val(&task)` in `admit`, release build:\n\n"
            + table(["`serve_client`", "bytes per task"], [[n, s] for n, s in sizes.items()]))


@section
def async_await_3():
    rows = []
    for name, binary in [("raw waker (as it is)", release("async_await")),
                         ("`Arc<TaskWaker>`", patched("async_await-3", "async_await"))]:
        with Server(binary, "--max-conns", "20000") as server:
            report = hold(server, 19000, 3, ramp="50/10ms")
        rows.append([name, f"{report['held_max']:,}", fmt(report["server_bytes_per_connection"]) + " B"])
    return ("`async_await --max-conns 20000`, `bench hold URL -n 19000 -d 3 --ramp 50/10ms --pid PID`:\n\n"
            + table(["wakers", "held", "RSS per connection"], rows))


@section
def async_await_4():
    binaries = {"level-triggered (as it is)": release("async_await"),
                "edge-triggered, read to EAGAIN": patched("async_await-4", "async_await")}
    results = in_turn(binaries, lambda server: bench("load", server.url + "/numbers.txt", "-c", 100, "-d", 2,
                                                     "--pid", server.pid))
    rows = [[n, fmt(median([r["server"]["syscalls_per_request"] for r in rs])),
             fmt(median([r["server"]["cpu_us_per_request"] for r in rs])),
             spread([r["requests_per_s"] for r in rs])] for n, rs in results.items()]
    return ("`bench load URL -c 100 -d 2 --pid PID`, 3 rounds in turn, medians:\n\n"
            + table(["registration", "system calls per request", "CPU µs per request", "req/s [min–max]"], rows))


# ---------------------------------------------------------------- uring

@section
def uring_1():
    lines = trace_two_requests(release("uring"))
    rows = [[f"`{s}`", fmt(compare(s, "keepalive", "syscalls_per_request")),
             fmt(compare(s, "keepalive", "cpu_us_per_request"))] for s in ["uring", "epoll"]]
    return ("`uring --trace`, two requests on one keep-alive connection:\n\n```text\n" + "\n".join(lines)
            + "\n```\n\n" + book_run_note() + " Keep-alive, c100:\n\n"
            + table(["server", "system calls per request", "CPU µs per request"], rows))


@section
def uring_2():
    rows = [[f"`{s}`", fmt(compare(s, "keepalive")), fmt(compare(s, "keepalive", "cpu_us_per_request")),
             fmt(compare(s, "keepalive", "syscalls_per_request")), fmt(compare(s, "echo")),
             fmt(compare(s, "echo", "cpu_us_per_message"))]
            for s in ["uring", "uring --shots single"]]
    return (book_run_note() + "\n\n" + table(["server", "keep-alive req/s", "CPU µs per request",
                                               "system calls per request", "echo msg/s", "CPU µs per message"], rows))


@section
def uring_4():
    rows = []
    for name, binary in [("256 (as it is)", release("uring")), ("4", patched("uring-4", "uring"))]:
        with Server(binary, "--trace", stderr=subprocess.PIPE) as server:
            counts = [0]

            def count():
                for line in server.process.stderr:
                    if "ENOBUFS" in line:
                        counts[0] += 1
            counter = threading.Thread(target=count, daemon=True)
            counter.start()
            r = bench("load", server.url + "/numbers.txt", "-c", 100, "-d", 1)
            server.stop()
            counter.join(2)
        with Server(binary) as server:
            plain = bench("load", server.url + "/numbers.txt", "-c", 100, "-d", 2)
        rows.append([name, fmt(plain["requests_per_s"]), sum(plain["errors"].values()), counts[0]])
    return ("`bench load URL -c 100 -d 2` without the trace, then 1 s with `--trace` to count:\n\n"
            + table(["`POOL_BUFFERS`", "req/s", "errors", "`ENOBUFS` lines in 1 s traced"], rows))


# ---------------------------------------------------------------- main

def main():
    only = None
    if "--only" in sys.argv:
        only = set(sys.argv[sys.argv.index("--only") + 1].split(","))
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE)[1:] * 2)
    subprocess.run(["cargo", "build", "--release", "-q", "--workspace", "--bins", "--examples"], cwd=ROOT,
                   check=True)
    kept = {}
    if only and os.path.exists(OUT):
        text = open(OUT).read()
        for m in re.finditer(r"<!-- ANCHOR: (\S+) -->\n(.*?)\n<!-- ANCHOR_END: \1 -->", text, re.S):
            kept[m.group(1)] = m.group(2)
    # The size of the task as it is: the print of the patch without the split.
    size_patch = os.path.join(ROOT, "docs/solutions/async_await-2-size.patch")
    with open(os.path.join(ROOT, "docs/solutions/async_await-2.patch")) as f:
        full = f.read()
    hunk = re.search(r"(diff --git a/async_await/src/server.rs.*?\n@@ [^\n]*\n(?:[ +-][^\n]*\n)*?)(?=@@|\Z)",
                     full, re.S).group(1)
    made_size_patch = False
    for name, function in SECTIONS.items():
        if only and name not in only:
            continue
        if name == "async_await-2" and not os.path.exists(size_patch):
            with open(size_patch, "w") as f:
                f.write(hunk)
            made_size_patch = True
        started = time.monotonic()
        print(f"== {name}", flush=True)
        try:
            kept[name] = function()
        finally:
            if made_size_patch:
                os.remove(size_patch)
                made_size_patch = False
        print(kept[name] + f"\n({time.monotonic() - started:.0f} s)\n", flush=True)
        write(kept)


def write(kept):
    """The file, with every section measured so far (written after each)."""
    with open(OUT, "w") as f:
        f.write("<!-- Written by docs/solutions/measure.py: the figures of the exercises' solutions. -->\n\n")
        for name in SECTIONS:
            if name in kept:
                f.write(f"<!-- ANCHOR: {name} -->\n{kept[name]}\n<!-- ANCHOR_END: {name} -->\n\n")


if __name__ == "__main__":
    main()
