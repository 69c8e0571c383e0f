//! The meter: the kernel's counters opened on a server's threads and
//! children, read at the end of a run, and what they add up to.

use std::time::{Duration, Instant};

use nix::libc;
use nix::sys::resource::{UsageWho, getrusage};
use perf_event::events::{Event, Software, Tracepoint};
use perf_event::{Builder, Counter};

use super::{Client, Costs, Unit};
use crate::procfs::{self, CpuTimes};
use crate::sys;

/// Counters running on a server's process tree; see the module docs.
pub struct Meter {
    /// The server's PID, the root of the tree (`None`: only the bench's
    /// own CPU is measured).
    pid: Option<u32>,
    /// When counting began.
    started: Instant,
    /// The tree's CPU time then.
    server_cpu: Option<CpuTimes>,
    /// The bench's own CPU time then.
    client_cpu: Duration,
    /// The perf counters, by kind: one per thread of the tree, or why not.
    kinds: Vec<(&'static str, Result<Vec<Counter>, String>)>,
}

/// A meter's counts over the window, before they are divided by the work.
#[derive(Debug, Clone)]
pub struct Totals {
    /// How long the window lasted.
    pub elapsed: Duration,
    /// The server's CPU time in the window, or why not.
    pub server_cpu: Result<CpuTimes, String>,
    /// Counts by kind (`cpu_ns`, `syscalls`, `context_switches`, ...), or
    /// why not.
    pub counts: Vec<(&'static str, Result<u64, String>)>,
    /// The bench's own CPU time in the window.
    pub client_cpu: Duration,
}

/// Whether the kernel lets this process count a server: `Err` says why not
/// (as the figures would). For tests that need it.
pub fn available() -> Result<(), String> {
    let me = std::process::id();
    let kinds = open_all(&procfs::threads(me));
    for (_, counters) in kinds {
        counters?;
    }
    Ok(())
}

impl Meter {
    /// Starts counting on `pid`'s process tree (with `None`, only on the
    /// bench itself: the server's figures will be `None`, "no --pid").
    /// Counters that cannot be had are noted, and their figures will be
    /// `None` with the reason.
    pub fn start(pid: Option<u32>) -> Meter {
        let mut kinds = match pid {
            Some(pid) => open_on_tree(pid),
            None => Vec::new(),
        };
        for (_, counters) in &mut kinds {
            if let Ok(list) = counters {
                if let Err(err) = list.iter_mut().try_for_each(Counter::enable) {
                    *counters = Err(format!("cannot start a perf counter: {err}"));
                }
            }
        }
        Meter {
            pid,
            started: Instant::now(),
            server_cpu: pid.and_then(procfs::tree_cpu),
            client_cpu: own_cpu(),
            kinds,
        }
    }

    /// Stops counting and returns what was counted since [`Meter::start`].
    pub fn stop(mut self) -> Totals {
        for (_, counters) in &mut self.kinds {
            if let Ok(list) = counters {
                for counter in list.iter_mut() {
                    let _ = counter.disable();
                }
            }
        }
        let elapsed = self.started.elapsed();
        let client_cpu = own_cpu().saturating_sub(self.client_cpu);
        let server_cpu = match (self.pid, self.server_cpu) {
            (None, _) => Err(NO_PID.to_string()),
            (Some(pid), before) => match (before, procfs::tree_cpu(pid)) {
                (Some(before), Some(after)) => Ok(CpuTimes {
                    user: after.user.saturating_sub(before.user),
                    system: after.system.saturating_sub(before.system),
                }),
                _ => Err("the server's /proc/PID/stat could not be read".to_string()),
            },
        };
        if self.pid.is_none() {
            self.kinds = KINDS
                .iter()
                .map(|&kind| (kind, Err(NO_PID.to_string())))
                .collect();
        }
        let counts = self
            .kinds
            .into_iter()
            .map(|(name, counters)| {
                let total = counters.and_then(|mut list| {
                    list.iter_mut().try_fold(0u64, |sum, counter| {
                        counter
                            .read()
                            .map(|n| sum + n)
                            .map_err(|e| format!("cannot read a perf counter: {e}"))
                    })
                });
                (name, total)
            })
            .collect();
        Totals {
            elapsed,
            server_cpu,
            counts,
            client_cpu,
        }
    }
}

impl Totals {
    /// The server's costs per unit of `work` done in the window.
    pub fn per(&self, work: u64, unit: Unit) -> Costs {
        let mut costs = Costs::none(unit, "not counted");
        let seconds = self.elapsed.as_secs_f64().max(1e-9);
        let micros = |d: Duration| d.as_secs_f64() * 1e6;
        let ticks = self.server_cpu.as_ref().map_err(Clone::clone);
        // The total: task-clock's nanoseconds, or /proc's ticks without it,
        // when they saw enough to count (as a user without perf events, a
        // short run's ticks are often none at all: that is not 0 µs).
        let total = match self.count("cpu_ns") {
            Some(Ok(ns)) => Ok(ns as f64 / 1e3),
            perf => {
                let why = match perf {
                    Some(Err(why)) => why,
                    _ => "no perf counter".to_string(),
                };
                ticks.clone().and_then(|c| match c.user + c.system {
                    ticked if ticked >= ENOUGH_TICKS => Ok(micros(ticked)),
                    _ => Err(format!(
                        "too little CPU for the kernel's 10 ms ticks to count, and no perf counter ({})",
                        why.split(" (").next().unwrap_or(&why)
                    )),
                })
            }
        };
        // The split: /proc's proportion of the total. Where the ticks saw
        // less than half of the total (many short-lived processes, each
        // rounded down to whole ticks), their proportion says too little.
        let part = |side: fn(&CpuTimes) -> Duration| -> Result<f64, String> {
            let ticks = ticks.clone()?;
            let sampled = micros(ticks.user + ticks.system);
            let total = total.clone()?;
            match sampled > 0.0 && sampled >= total / 2.0 {
                true => Ok(total * micros(side(ticks)) / sampled),
                false => Err(
                    "the kernel's 10 ms ticks saw too little of the CPU to split it".to_string(),
                ),
            }
        };
        costs.set("cpu_us", &total, work);
        costs.set("user_us", &part(|c| c.user), work);
        costs.set("sys_us", &part(|c| c.system), work);
        match &total {
            Ok(us) => {
                costs.cpu_share = Some(us / 1e6 / seconds);
                costs.missing.remove("cpu_share");
            }
            Err(why) => {
                costs.missing.insert("cpu_share".into(), why.clone());
            }
        }
        for (name, count) in &self.counts {
            if *name != "cpu_ns" {
                costs.set(name, &count.clone().map(|n| n as f64), work);
            }
        }
        costs
    }

    /// The count of kind `name`, if it was opened at all.
    pub fn count(&self, name: &str) -> Option<Result<u64, String>> {
        self.counts
            .iter()
            .find(|(kind, _)| *kind == name)
            .map(|(_, count)| count.clone())
    }

    /// The bench's side of the window.
    pub fn client(&self) -> Client {
        Client {
            cpu_share: self.client_cpu.as_secs_f64() / self.elapsed.as_secs_f64().max(1e-9),
        }
    }
}

/// The least CPU time the 10 ms ticks of `/proc` must have seen to stand in
/// for `task-clock`: ten ticks, so that rounding each process down to a
/// tick is at most a tenth of the total.
const ENOUGH_TICKS: Duration = Duration::from_millis(100);

/// Why the server's figures are missing when the bench was not told its PID.
const NO_PID: &str = "no --pid: the server was not measured";

/// The kinds of count, by the name of their figure (`cpu_ns`: the
/// nanoseconds the per-unit `cpu_us` is made of).
const KINDS: [&str; 5] = [
    "cpu_ns",
    "syscalls",
    "context_switches",
    "voluntary_switches",
    "involuntary_switches",
];

/// The filters on `sched:sched_switch` that split the switches: a thread
/// that leaves sleeping (a state bit below `0x100`) blocked; one that
/// leaves runnable (`0`, it yielded) or preempted (`0x100`) did not.
const VOLUNTARY: &str = "prev_state > 0 && prev_state < 256";
const INVOLUNTARY: &str = "prev_state == 0 || prev_state >= 256";

/// Opens every kind of counter on every thread of `pid`'s tree. A thread
/// started while the counters were being opened would have none (its
/// creator had none yet to inherit), so the threads are listed again after,
/// and all of it done again until the list holds still.
fn open_on_tree(pid: u32) -> Vec<(&'static str, Result<Vec<Counter>, String>)> {
    let mut listed = procfs::tree_threads(pid);
    for _ in 0..10 {
        let kinds = open_all(&listed.iter().copied().collect::<Vec<_>>());
        let now = procfs::tree_threads(pid);
        if now.is_subset(&listed) {
            return kinds;
        }
        // Closing these counters frees the ones their threads' children
        // inherited: the next try counts every thread once.
        drop(kinds);
        listed = now;
        std::thread::sleep(Duration::from_millis(20));
    }
    let why = "the server kept starting threads while its counters were opened";
    KINDS
        .iter()
        .map(|&kind| (kind, Err(why.to_string())))
        .collect()
}

/// Opens every kind of counter on every thread of `threads`, disabled.
fn open_all(threads: &[u32]) -> Vec<(&'static str, Result<Vec<Counter>, String>)> {
    let sys_enter = tracepoint("raw_syscalls/sys_enter");
    let switch = tracepoint("sched/sched_switch");
    let [cpu, syscalls, switches, voluntary, involuntary] = KINDS;
    vec![
        (cpu, open(Software::TASK_CLOCK, None, threads)),
        (syscalls, sys_enter.and_then(|tp| open(tp, None, threads))),
        (switches, open(Software::CONTEXT_SWITCHES, None, threads)),
        (
            voluntary,
            switch
                .clone()
                .and_then(|tp| open(tp, Some(VOLUNTARY), threads)),
        ),
        (
            involuntary,
            switch.and_then(|tp| open(tp, Some(INVOLUNTARY), threads)),
        ),
    ]
}

/// One counter of `event` on each of `threads`, inherited by the threads
/// and processes they start, kernel events included.
fn open<E: Event + Clone>(
    event: E,
    filter: Option<&str>,
    threads: &[u32],
) -> Result<Vec<Counter>, String> {
    let mut counters = Vec::with_capacity(threads.len());
    for &thread in threads {
        let built = Builder::new(event.clone())
            .observe_pid(thread as libc::pid_t)
            .any_cpu()
            .inherit(true)
            .include_kernel()
            .build();
        let counter = match built {
            Ok(counter) => counter,
            // The thread ended between the listing and now: nothing to count.
            Err(err) if err.raw_os_error() == Some(libc::ESRCH) => continue,
            Err(err) => return Err(refused(&err)),
        };
        if let Some(filter) = filter {
            sys::set_filter(&counter, filter)
                .map_err(|e| format!("the kernel refused the filter `{filter}`: {e}"))?;
        }
        counters.push(counter);
    }
    Ok(counters)
}

/// Why `perf_event_open` failed, in words.
fn refused(err: &std::io::Error) -> String {
    match err.raw_os_error() {
        Some(libc::EACCES | libc::EPERM) => {
            let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
                .map_or("?".to_string(), |s| s.trim().to_string());
            format!(
                "no permission for perf events (kernel.perf_event_paranoid is {paranoid}; root may)"
            )
        }
        Some(libc::ENOENT | libc::ENODEV | libc::EOPNOTSUPP) => {
            format!("this kernel has no such perf event: {err}")
        }
        _ => format!("perf_event_open: {err}"),
    }
}

/// The tracepoint `name` (`sched/sched_switch`), its id read from tracefs.
fn tracepoint(name: &str) -> Result<Tracepoint, String> {
    let roots = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];
    let mut denied = false;
    for root in roots {
        match std::fs::read_to_string(format!("{root}/events/{name}/id")) {
            Ok(id) => {
                if let Ok(id) = id.trim().parse() {
                    return Ok(Tracepoint::with_id(id));
                }
            }
            Err(err) => denied |= err.kind() == std::io::ErrorKind::PermissionDenied,
        }
    }
    // tracefs is mounted root-only (0700) on most machines: a user may
    // count CPU and switches with perf_event_paranoid at 1, not this.
    Err(match denied {
        true => format!("tracefs is readable by root only: cannot read the id of {name}"),
        false => format!(
            "no tracefs: cannot read the id of {name} under {}",
            roots.join(" or ")
        ),
    })
}

/// The bench's CPU time so far, its own threads and its waited-for children.
fn own_cpu() -> Duration {
    let time = |who| {
        getrusage(who).map_or(Duration::ZERO, |usage| {
            let micros = |t: nix::sys::time::TimeVal| {
                Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
            };
            micros(usage.user_time()) + micros(usage.system_time())
        })
    };
    time(UsageWho::RUSAGE_SELF) + time(UsageWho::RUSAGE_CHILDREN)
}
