#!/usr/bin/env python3
"""`bench live`'s page, driven in headless Chromium (chromedriver's
WebDriver protocol over plain HTTP; nothing to install beyond what
scripts/setup.sh installs).

    python3 docs/live.py shots [--out docs/src/results]
        The book's screenshots of the page: `live-two.png` (the guided
        experiment poll against epoll, 10 busy clients and then 5,000 idle
        connections) and `live-four.png` (poll, epoll, uring and threaded,
        10 busy clients and then 2,000 idle connections each).

    python3 docs/live.py agree [--rounds 5] [--seconds 10] [--out FILE]
        Whether the page's meter agrees with `bench load --pid` run alone:
        in each round the page starts epoll and poll under 10 busy clients
        on /numbers.txt and its samples are read out of the page, then each
        server is started alone, pinned as the lab pins it (CPU 0, the
        client on CPU 1), under `bench load -c 10 --pid`. The rounds are
        interleaved with a third way: both servers at once, each under its
        own `bench load` (the page's neighbourhood without the page). The
        table gives each figure's median and its rounds' spread [min-max],
        the medians' ratios, and whether the spreads overlap. With `--out FILE` the table goes there too (the book
        includes `docs/src/results/live-agree.md`).

Every process it starts it stops, by PID, however it ends.
"""

import argparse
import base64
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "target", "release", "bench")
# What the lab starts each server with (bench/src/compare/sweep.rs's SERVER_ARGS).
SERVER_ARGS = ["--max-conns", "20000", "--idle-timeout", "600"]
# The page's figures and `bench load --json`'s names for them.
FIGURES = [("cpu_us", "cpu_us", "CPU µs"), ("syscalls", "syscalls", "syscalls"),
           ("switches", "context_switches", "switches")]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None):
    """One WebDriver command; its `value`."""
    data = None if method == "GET" else json.dumps(body or {}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=data,
                                 headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=120).read() or b"{}").get("value")


class Lab:
    """`bench live --port 0`, stopped by SIGTERM (it stops its servers)."""

    def __enter__(self):
        self.proc = subprocess.Popen([BENCH, "live", "--port", "0"], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        self.url = next((w for w in line.split() if w.startswith("http://")), None)
        if not self.url:
            self.__exit__()
            sys.exit(f"bench live printed no address: {line!r}")
        return self

    def __exit__(self, *_):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


class Browser:
    """Headless Chromium through chromedriver."""

    def __init__(self, width, height):
        self.size = f"--window-size={width},{height}"

    def __enter__(self):
        self.port = free_port()
        self.driver = subprocess.Popen(["chromedriver", f"--port={self.port}"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                call(self.port, "GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        options = {"binary": "/usr/bin/chromium", "args": ["--headless=new", "--no-sandbox", self.size]}
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}}
        self.session = call(self.port, "POST", "/session", caps)["sessionId"]
        return self

    def __exit__(self, *_):
        try:
            call(self.port, "DELETE", f"/session/{self.session}")
        finally:
            self.driver.terminate()
            self.driver.wait(timeout=30)

    def open(self, url):
        call(self.port, "POST", f"/session/{self.session}/url", {"url": url})

    def js(self, script):
        return call(self.port, "POST", f"/session/{self.session}/execute/sync", {"script": script, "args": []})

    def png(self):
        return base64.b64decode(call(self.port, "GET", f"/session/{self.session}/screenshot"))

    def start(self, servers, busy, idle):
        """Ticks `servers`, sets the load and presses Start."""
        self.js(f"document.querySelectorAll('#servers input').forEach(i => i.checked = {json.dumps(servers)}.includes(i.value));"
                f"document.getElementById('busy').value = {busy}; document.getElementById('idle').value = {idle};"
                "document.getElementById('start').click();")

    def apply(self, idle):
        self.js(f"document.getElementById('idle').value = {idle}; document.getElementById('apply').click();")

    def message(self):
        return self.js("return document.getElementById('message').textContent;")


def build():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "bench"], cwd=ROOT, check=True)


def shots(out):
    build()
    with Lab() as lab, Browser(1500, 1450) as page:
        # Two servers: the guided experiment, as a lesson's link starts it.
        page.open(lab.url + "#experiment=poll-epoll")
        time.sleep(32)
        write(os.path.join(out, "live-two.png"), page.png(), page.message())
        page.open(lab.url)
        time.sleep(2)
        page.start(["poll", "epoll", "uring", "threaded"], 10, 0)
        time.sleep(14)
        page.apply(2000)
        time.sleep(18)
        write(os.path.join(out, "live-four.png"), page.png(), page.message())


def write(path, png, message):
    if message:
        sys.exit(f"the page says {message!r}: no screenshot of a failing lab")
    with open(path, "wb") as f:
        f.write(png)
    print(f"wrote {os.path.relpath(path, ROOT)} ({len(png):,} bytes)")


def in_lab(page, servers, seconds):
    """The page's samples of `seconds` seconds after a 2-second start, by server."""
    page.start(servers, 10, 0)
    time.sleep(seconds + 3)
    samples = page.js("return samples;")
    page.js("document.getElementById('stop').click();")
    time.sleep(2)
    got = {}
    for name in servers:
        mine = [s for s in samples if s["server"] == name and s["cpu_us"] is not None]
        if len(mine) < seconds:
            sys.exit(f"{name}: {len(mine)} samples on the page in {seconds + 3} s")
        # The last `seconds` of them: the first follows the server's start.
        got[name] = {key: statistics.median(s[key] for s in mine[-seconds:]) for key, _, _ in FIGURES}
    return got


def under_bench(servers, seconds):
    """`servers` started on CPU 0 as the lab starts them, each under its own
    `bench load -c 10 --pid` on CPU 1, all at once: one server is the meter
    alone, two are the meter beside the same neighbour as on the page."""
    procs = [subprocess.Popen(["taskset", "-c", "0", os.path.join(ROOT, "target", "release", s),
                               "--addr", "127.0.0.1:0", *SERVER_ARGS],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
             for s in servers]
    try:
        loads = []
        for proc in procs:
            addr = proc.stdout.readline().strip().removeprefix("listening on ")
            loads.append(subprocess.Popen(["taskset", "-c", "1", BENCH, "load", f"http://{addr}/numbers.txt",
                                           "-c", "10", "-d", str(seconds), "--pid", str(proc.pid), "--json"],
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
        got = {}
        for server, load in zip(servers, loads):
            costs = json.loads(load.communicate()[0])["server"]
            got[server] = {key: costs[name + "_per_request"] for key, name, _ in FIGURES}
        return got
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


def agree(rounds, seconds, out):
    build()
    servers = ["epoll", "poll"]
    ways = {"page": [], "alone": [], "beside": []}
    with Lab() as lab, Browser(1200, 900) as page:
        page.open(lab.url)
        time.sleep(2)
        for r in range(rounds):
            # Interleaved, each way first in turn: a slow minute of the
            # machine falls on all three.
            order = ["page", "alone", "beside"][r % 3:] + ["page", "alone", "beside"][:r % 3]
            for way in order:
                if way == "page":
                    ways[way].append(in_lab(page, servers, seconds))
                elif way == "alone":
                    ways[way].append({s: under_bench([s], seconds)[s] for s in servers})
                else:
                    ways[way].append(under_bench(servers, seconds))
            print(f"round {r + 1} of {rounds}", file=sys.stderr)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    lines = [f"`python3 docs/live.py agree --rounds {rounds} --seconds {seconds}` at commit {commit}"
             f"{' (with changes not committed)' if dirty else ''}: 10 busy clients on "
          f"/numbers.txt, keep-alive, servers on CPU 0 and clients on CPU 1. Median [min-max] of "
          f"{rounds} interleaved rounds; a round's figure is the median of {seconds} one-second "
          f"samples on the page, or one `bench load URL -d {seconds} --pid PID` with the server alone, or "
          f"with both servers at once, each under its own `bench load` (as on the page).", ""]
    lines.append("| server | per request | on the page | `bench load URL --pid PID`, alone | page ÷ alone | "
                 "`bench load URL --pid PID`, both at once | page ÷ both |")
    lines.append("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for s in servers:
        for key, _, title in FIGURES:
            a, b, c = ([r[s][key] for r in ways[w]] for w in ("page", "alone", "beside"))
            lines.append(f"| {s} | {title} | {spread(a)} | {spread(b)} | {ratio(a, b)} | {spread(c)} | {ratio(a, c)} |")
    lines += ["", "✓: the two spreads overlap; ✗: they do not."]
    print("\n".join(lines))
    if out:
        with open(out, "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"wrote {os.path.relpath(out, ROOT)}", file=sys.stderr)


def ratio(a, b):
    """The medians' ratio, and whether the rounds' spreads overlap."""
    overlap = max(min(a), min(b)) <= min(max(a), max(b))
    return f"{statistics.median(a) / statistics.median(b):.2f} {'✓' if overlap else '✗'}"


def spread(values):
    f = lambda v: f"{v:.5g}"
    return f"{f(statistics.median(values))} [{f(min(values))}-{f(max(values))}]"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("shots")
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "src", "results"))
    p = sub.add_parser("agree")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--out", help="also write the table here")
    args = parser.parse_args()
    if args.what == "shots":
        shots(args.out)
    else:
        agree(args.rounds, args.seconds, args.out)


if __name__ == "__main__":
    main()
