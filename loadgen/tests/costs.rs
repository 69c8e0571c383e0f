//! The meter (`loadgen::cost`) against processes whose costs are known,
//! because this test binary plays them itself. Run again with
//! `BENCH_COST_CHILD=TASK`, it waits for a line on stdin, does exactly what
//! the task says (so many system calls, sleeps, threads, children), prints
//! `done`, and waits for another line before it exits: the measured window
//! holds the task and nothing else.
//!
//! The counts need perf events (root, or `kernel.perf_event_paranoid` low
//! enough) and tracefs. Where either is missing, each test that needs them
//! is reported as ignored with the reason, never as passed; where
//! `IOMODELS_REQUIRE` names `perf` (`.ci/run` sets it), they fail instead.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::time::Duration;

use conformance::client::check;
use conformance::{Need, Outcome, trial};
use loadgen::cost::{Costs, Meter, Totals, Unit};

/// The variable that makes this binary a child with a task.
const CHILD: &str = "BENCH_COST_CHILD";

fn main() -> ExitCode {
    if let Ok(task) = std::env::var(CHILD) {
        return child(&task);
    }
    let perf = Need {
        name: "perf",
        found: loadgen::cost::available(),
    };
    conformance::run(vec![
        trial(
            "every system call of the process is counted".into(),
            Some(&perf),
            syscalls_are_counted,
        ),
        trial(
            "threads started during the run are counted".into(),
            Some(&perf),
            threads_are_counted,
        ),
        trial(
            "children forked and reaped during the run are counted, CPU included".into(),
            Some(&perf),
            children_are_counted,
        ),
        trial(
            "voluntary and involuntary switches match the kernel's own counts".into(),
            Some(&perf),
            switches_match_proc,
        ),
        trial(
            "without a PID the server's figures are missing, with why, not zero".into(),
            None,
            without_a_pid,
        ),
    ])
}

// ---- The child: tasks with known costs. ----

/// Does `task` between two lines on stdin (see the module docs).
fn child(task: &str) -> ExitCode {
    let words: Vec<&str> = task.split_whitespace().collect();
    let number = |i: usize| -> u64 { words.get(i).and_then(|w| w.parse().ok()).unwrap_or(0) };
    let wait_for_line = || {
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
    };
    let work = || match words.first().copied() {
        // N system calls: getppid(2) does nothing else and is never cached.
        Some("syscalls") => {
            syscalls(number(1));
            None
        }
        // T threads, each making N system calls.
        Some("threads") => {
            let threads: Vec<_> = (0..number(1))
                .map(|_| {
                    let n = number(2);
                    std::thread::spawn(move || syscalls(n))
                })
                .collect();
            threads.into_iter().for_each(|t| t.join().unwrap());
            None
        }
        // K children, each busy for MS ms, then reaped; says the CPU time
        // they reported of themselves, in µs.
        Some("fork") => {
            let mut spent = 0u64;
            for _ in 0..number(1) {
                let output = Command::new(std::env::current_exe().unwrap())
                    .env(CHILD, format!("now burn {}", number(2)))
                    .output()
                    .unwrap();
                assert!(output.status.success());
                spent += String::from_utf8_lossy(&output.stdout)
                    .trim()
                    .parse::<u64>()
                    .unwrap();
            }
            Some(spent)
        }
        // N sleeps of a millisecond: N times blocked.
        Some("sleeps") => {
            for _ in 0..number(1) {
                std::thread::sleep(Duration::from_millis(1));
            }
            None
        }
        other => panic!("no such task {other:?}"),
    };
    // `now burn MS`: a child of a child, no stdin handshake: busy for MS ms,
    // then prints the CPU time it used, in µs.
    if words.first() == Some(&"now") {
        burn(Duration::from_millis(number(2)));
        println!("{}", own_cpu_us());
        return ExitCode::SUCCESS;
    }
    wait_for_line();
    let said = work().map_or(String::new(), |n| format!(" {n}"));
    println!("done{said}");
    wait_for_line();
    ExitCode::SUCCESS
}

fn syscalls(n: u64) {
    for _ in 0..n {
        std::hint::black_box(nix::unistd::getppid());
    }
}

/// Keeps the CPU busy for `wall` of wall-clock time, reading the clock
/// through the vDSO (no system call), so that the child makes few calls.
fn burn(wall: Duration) {
    let start = std::time::Instant::now();
    while start.elapsed() < wall {
        std::hint::black_box(0u64);
    }
}

/// This process's CPU time so far, µs.
fn own_cpu_us() -> u64 {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).unwrap();
    let us = |t: nix::sys::time::TimeVal| t.tv_sec() as u64 * 1_000_000 + t.tv_usec() as u64;
    us(usage.user_time()) + us(usage.system_time())
}

// ---- The tests. ----

/// A child of this binary with `task`, waiting for the go.
struct Task {
    process: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Task {
    fn start(task: &str) -> Result<Task, String> {
        let mut process = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
            .env(CHILD, task)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        let input = process.stdin.take().ok_or("no stdin")?;
        let output = BufReader::new(process.stdout.take().ok_or("no stdout")?);
        // Let it reach its first read.
        std::thread::sleep(Duration::from_millis(100));
        Ok(Task {
            process,
            input,
            output,
        })
    }

    /// Runs the task under a meter and returns what the meter counted,
    /// then lets the child exit.
    /// Runs the task under a meter; what the meter counted, and the number
    /// the child said after `done`, if any.
    fn measure(mut self) -> Result<(Totals, Option<u64>), String> {
        let meter = Meter::start(Some(self.process.id()));
        let measured = self.go_and_wait(meter)?;
        self.finish()?;
        Ok(measured)
    }

    fn go_and_wait(&mut self, meter: Meter) -> Result<(Totals, Option<u64>), String> {
        writeln!(self.input, "go").map_err(|e| e.to_string())?;
        let mut line = String::new();
        self.output
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let mut words = line.split_whitespace();
        check(words.next() == Some("done"), || {
            format!("the child said {line:?}")
        })?;
        let said = words.next().and_then(|n| n.parse().ok());
        // It is blocked in its read again: nothing more happens.
        std::thread::sleep(Duration::from_millis(50));
        Ok((meter.stop(), said))
    }

    fn finish(mut self) -> Outcome {
        writeln!(self.input).map_err(|e| e.to_string())?;
        let status = self.process.wait().map_err(|e| e.to_string())?;
        check(status.success(), || format!("the child ended {status}"))
    }
}

/// A count of `name` from the totals.
fn count(totals: &Totals, name: &str) -> Result<u64, String> {
    totals
        .counts
        .iter()
        .find(|(kind, _)| *kind == name)
        .ok_or_else(|| format!("no {name} count"))?
        .1
        .clone()
}

/// Expects `value` within `low..=high`.
fn within(what: &str, value: u64, low: u64, high: u64) -> Outcome {
    check((low..=high).contains(&value), || {
        format!("{what}: {value}, expected {low}..={high}")
    })
}

/// 200,000 `getppid`s, and the child's own few calls around them (the
/// read that wakes it, the write of `done`, the read it blocks in again).
fn syscalls_are_counted() -> Outcome {
    let (totals, _) = Task::start("syscalls 200000")?.measure()?;
    within(
        "system calls",
        count(&totals, "syscalls")?,
        200_000,
        200_050,
    )
}

/// Four threads started inside the window, 20,000 calls each: inherited
/// counters, added to their parent's when the threads end.
fn threads_are_counted() -> Outcome {
    let (totals, _) = Task::start("threads 4 20000")?.measure()?;
    // Each thread's own start and end (clone3, mmap, mprotect, futex, ...).
    within(
        "system calls",
        count(&totals, "syscalls")?,
        80_000,
        80_000 + 4 * 60 + 100,
    )
}

/// Three children, forked (and exec'd) inside the window, each busy for
/// 100 ms, then reaped by the measured process: their CPU and system calls
/// by inherited counters, and in the whole tree's CPU at least what each
/// child said it used.
fn children_are_counted() -> Outcome {
    let (totals, said) = Task::start("fork 3 100")?.measure()?;
    let reported = Duration::from_micros(said.ok_or("the children's CPU was not said")?);
    let counted = Duration::from_nanos(count(&totals, "cpu_ns")?);
    check(counted >= reported, || {
        format!("the tree's CPU {counted:?} is less than its children's own {reported:?}")
    })?;
    check(reported >= Duration::from_millis(150), || {
        format!("the children were busy for only {reported:?}")
    })?;
    // A child makes a few hundred calls (an exec, and the start of a Rust
    // program; its clock reads go through the vDSO, not the kernel).
    within(
        "system calls",
        count(&totals, "syscalls")?,
        3 * 30,
        3 * 2_000,
    )
}

/// 300 sleeps: at least 300 voluntary switches, and exactly what the
/// kernel's own counters in `/proc/PID/status` say, both ways.
fn switches_match_proc() -> Outcome {
    let task = Task::start("sleeps 300")?;
    let pid = task.process.id();
    let status = || -> Result<(u64, u64), String> {
        let text =
            std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
        let field = |name: &str| -> Option<u64> {
            text.lines()
                .find(|l| l.starts_with(name))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        };
        Ok((
            field("voluntary_ctxt_switches:").ok_or("no voluntary_ctxt_switches")?,
            field("nonvoluntary_ctxt_switches:").ok_or("no nonvoluntary_ctxt_switches")?,
        ))
    };
    let mut task = task;
    let meter = Meter::start(Some(pid));
    let before = status()?;
    let (totals, _) = task.go_and_wait(meter)?;
    let after = status()?;
    task.finish()?;
    let voluntary = count(&totals, "voluntary_switches")?;
    let involuntary = count(&totals, "involuntary_switches")?;
    check(voluntary >= 300, || {
        format!("{voluntary} voluntary switches for 300 sleeps")
    })?;
    check(
        (voluntary, involuntary) == (after.0 - before.0, after.1 - before.1),
        || {
            format!(
                "meter: {voluntary} voluntary, {involuntary} involuntary; /proc: {} and {}",
                after.0 - before.0,
                after.1 - before.1
            )
        },
    )?;
    let total = count(&totals, "context_switches")?;
    check(total == voluntary + involuntary, || {
        format!("{total} switches in all, {voluntary} + {involuntary} by kind")
    })
}

/// No PID: the server's figures are `None`, each with the reason, and
/// the bench's own share is still measured.
fn without_a_pid() -> Outcome {
    let meter = Meter::start(None);
    std::thread::sleep(Duration::from_millis(50));
    let totals = meter.stop();
    let costs: Costs = totals.per(1000, Unit::Request);
    check(costs.syscalls.is_none() && costs.cpu_us.is_none(), || {
        format!("figures without a server: {costs:?}")
    })?;
    let why = costs
        .missing
        .get("syscalls_per_request")
        .cloned()
        .unwrap_or_default();
    check(why.contains("--pid"), || format!("the reason: {why:?}"))?;
    let json = serde_json::to_value(&costs).map_err(|e| e.to_string())?;
    check(json["syscalls_per_request"].is_null(), || {
        format!("JSON {json}")
    })?;
    check(totals.client().cpu_share >= 0.0, || {
        "no client share".into()
    })
}
