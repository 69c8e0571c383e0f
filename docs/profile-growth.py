#!/usr/bin/env python3
"""Why a request costs more at c10,000 than at c100: `perf record`
(cpu-clock samples) of `epoll` on CPU 0 and of `bench load` on CPU 1 while
the bench asks keep-alive `GET /numbers.txt` over 100, then 10,000
connections, three interleaved rounds. Each function's share of the
samples times the CPU µs a request cost that process (the server's from
`bench load --pid`, the bench's from its own CPU time over the requests)
is what the function costs per request. Written to
docs/src/results/profile-growth.md for growth.md to include; nothing in it
is typed by hand. Run by `docs/profile.sh growth` (which builds and sets
kptr_restrict so that kernel functions have names).
"""
import json, os, re, signal, statistics, subprocess, sys, tempfile, time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BIN = os.path.join(ROOT, "target", "release")
OUT = os.path.join(ROOT, "docs", "src", "results", "profile-growth.md")
STEPS = [100, 10_000]
ROUNDS = 3
SHOWN = 12  # functions in the table, by how much they grew


def ticks():
    return os.sysconf("SC_CLK_TCK")


def cpu_us(pid):
    """User plus system CPU of a process so far, in µs (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1e6 / ticks()


def samples(data):
    """{function: share of samples} from a perf.data file."""
    report = subprocess.run(
        ["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "sym", "-q"],
        capture_output=True, text=True, check=True).stdout
    shares = {}
    for line in report.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+\[([k.])\]\s+(.+?)\s*$", line)
        if m:
            where = "kernel" if m.group(2) == "k" else "program"
            shares[(where, m.group(3))] = shares.get((where, m.group(3)), 0) + float(m.group(1)) / 100
    return shares


def one(conns, port, scratch):
    """One step: the server's and the bench's cost per request, by function."""
    server = subprocess.Popen(["taskset", "-c", "0", f"{BIN}/epoll", "--addr", f"127.0.0.1:{port}",
                               "--max-conns", "20000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    duration = 8 if conns > 1000 else 5
    load = subprocess.Popen(["taskset", "-c", "1", f"{BIN}/bench", "load", f"http://127.0.0.1:{port}/numbers.txt",
                             "-c", str(conns), "-d", str(duration), "--pid", str(server.pid), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(duration - 3.5)  # past the ramp-up (10,000 connects take a while)
    data = {w: os.path.join(scratch, f"{w}-{conns}.data") for w in ("server", "bench")}
    bench_before = cpu_us(load.pid)
    records = [subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "2999", "-p", str(pid),
                                 "-o", data[w], "--", "sleep", "2"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
               for w, pid in (("server", server.pid), ("bench", load.pid))]
    for r in records:
        r.wait()
    bench_after = cpu_us(load.pid)
    out, _ = load.communicate()
    server.send_signal(signal.SIGTERM)
    server.wait()
    run = json.loads(out)
    # The bench's CPU per request over the 2 s it was sampled, at the run's rate.
    bench_us = (bench_after - bench_before) / (run["requests_per_s"] * 2)
    return {
        "rate": run["requests_per_s"],
        "server": (run["server"]["cpu_us_per_request"], samples(data["server"])),
        "bench": (bench_us, samples(data["bench"])),
    }


def per_request(runs, who):
    """Median over the rounds of each function's µs per request, and the total."""
    total = statistics.median(r[who][0] for r in runs)
    names = set().union(*(r[who][1].keys() for r in runs))
    each = {n: statistics.median(r[who][0] * r[who][1].get(n, 0) for r in runs) for n in names}
    return total, each


def table(who, low, high):
    (t_low, f_low), (t_high, f_high) = low, high
    grew = sorted(set(f_low) | set(f_high), key=lambda n: f_high.get(n, 0) - f_low.get(n, 0), reverse=True)
    lines = [f"| {who}: function | where | c100 µs | c10,000 µs | grew by |", "| --- | --- | ---: | ---: | ---: |"]
    for where, name in grew[:SHOWN]:
        a, b = f_low.get((where, name), 0), f_high.get((where, name), 0)
        lines.append(f"| `{name}` | {where} | {a:.3f} | {b:.3f} | {b - a:+.3f} |")
    for where in ("kernel", "program"):
        a = sum(v for (w, _), v in f_low.items() if w == where)
        b = sum(v for (w, _), v in f_high.items() if w == where)
        lines.append(f"| all of the {where}'s | {where} | {a:.2f} | {b:.2f} | {b - a:+.2f} |")
    lines.append(f"| **a request, in all** | | **{t_low:.2f}** | **{t_high:.2f}** | **{t_high - t_low:+.2f}** |")
    return "\n".join(lines)


def hardware_counters():
    """Whether perf can count cache misses here (a VM often cannot)."""
    stat = subprocess.run(["perf", "stat", "-x,", "-e", "cache-misses", "--", "true"],
                          capture_output=True, text=True).stderr
    return "<not supported>" not in stat and "cache-misses" in stat


def main():
    runs = {c: [] for c in STEPS}
    port = 7880
    with tempfile.TemporaryDirectory() as scratch:
        for r in range(ROUNDS):
            for c in STEPS:
                port += 1
                runs[c].append(one(c, port, scratch))
            print(f"profile-growth: round {r + 1} of {ROUNDS}", file=sys.stderr)
    rate = {c: statistics.median(r["rate"] for r in runs[c]) for c in STEPS}
    server = [per_request(runs[c], "server") for c in STEPS]
    bench = [per_request(runs[c], "bench") for c in STEPS]
    counters = ("perf counted cache misses on this machine"
                if hardware_counters() else
                "this machine's perf has no hardware events (cache misses, cycles): a virtual machine's CPU does not expose them, so the profile is of time (cpu-clock) only")
    with open(OUT, "w") as f:
        f.write("<!-- Written by docs/profile-growth.py (docs/profile.sh growth): do not edit by hand. -->\n\n")
        f.write("<!-- ANCHOR: server -->\n" + table("`epoll`", *server) + "\n<!-- ANCHOR_END: server -->\n\n")
        f.write("<!-- ANCHOR: bench -->\n" + table("the bench", *bench) + "\n<!-- ANCHOR_END: bench -->\n\n")
        f.write("<!-- ANCHOR: run -->\n")
        f.write(f"Medians of {ROUNDS} interleaved rounds; each a fresh `epoll` on CPU 0 and `bench load` on CPU 1, "
                f"2 s of cpu-clock samples of each after the ramp-up. Rates: "
                f"{rate[100]:,.0f} requests a second at c100, {rate[10_000]:,.0f} at c10,000. "
                f"The {SHOWN} functions that grew most per request are shown, then every function's sum. "
                f"Cache misses: {counters}.\n")
        f.write("<!-- ANCHOR_END: run -->\n")
    print(f"profile-growth: wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
