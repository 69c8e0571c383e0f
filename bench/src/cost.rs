//! What a server costs, counted by the kernel (docs/src/contract.md §7): per request (per
//! message for echo), CPU time, user and system apart, system calls and
//! context switches, voluntary and involuntary; its share of a core; and the
//! bench's own share, which says when the client, not the server, was the
//! limit.
//!
//! A [`Meter`] is started on the server's PID just before a run and stopped
//! just after it. It counts the server's whole process tree: every thread
//! and child process it has at the start, and every thread and child it
//! starts during the run (a thread per connection, a fork per connection).
//!
//! - **CPU time** is the software event `task-clock`, in nanoseconds, and
//!   **system calls** the tracepoint `raw_syscalls:sys_enter`, and
//!   **context switches** the software event `context-switches`, all
//!   counted by perf events, one counter per thread of the tree at the
//!   start, with `inherit` set: the kernel gives each new thread and child
//!   a counter of its own and adds it to its parent's.
//! - **User and system apart**: the kernel samples which side a thread is
//!   on at each clock tick and keeps the two in `/proc/PID/stat` (with the
//!   children each process has reaped, `cutime` and `cstime`), in ticks of
//!   10 ms per process. Summed over a hundred short-lived children that is
//!   too coarse to be a total (each one's time is rounded down), so the
//!   total is `task-clock`'s and `/proc` gives only the proportion. Without
//!   perf events, `/proc` gives the total too, and says less.
//! - **Voluntary and involuntary switches** are the tracepoint
//!   `sched:sched_switch`, filtered on the state the thread leaves in, as
//!   the kernel counts them for `/proc/PID/status`: a thread that blocks
//!   (waits for data, a lock, a timer) switches voluntarily; one that is
//!   preempted while it could still run (its time slice is up, or a more
//!   urgent thread woke) involuntarily. The tracepoint reports a preempted
//!   thread's state as `0x100` (`TASK_REPORT_MAX`), a thread that yielded
//!   as `0`, a sleeping one as one bit below `0x100`.
//! - **The bench's own CPU** is `getrusage` of itself and of the clients it
//!   ran and waited for (`ab`, `wrk`).
//!
//! A figure that cannot be had (no permission for perf events, no tracefs
//! for the tracepoints' ids, nothing answered to divide by) is `None`, and
//! [`Costs::missing`] says why: never a zero that was not counted.
//!
//! Counting has a cost of its own: every system call of the machine passes
//! the tracepoint while it is on. With and without the meter, the same
//! server's CPU per request differed by less than the run-to-run spread.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use nix::libc;
use nix::sys::resource::{UsageWho, getrusage};
use perf_event::events::{Event, Software, Tracepoint};
use perf_event::{Builder, Counter};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::procfs::{self, CpuTimes};
use crate::sys;

/// What one unit of work is: the figures are per request, or per message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unit {
    /// An HTTP request answered (`load`, `hold`).
    #[default]
    Request,
    /// An echo message come back whole (`echo`).
    Message,
}

impl Unit {
    /// The suffix of the JSON names: `cpu_us_per_request`.
    pub fn suffix(self) -> &'static str {
        match self {
            Unit::Request => "per_request",
            Unit::Message => "per_message",
        }
    }

    /// The word, for the text report.
    pub fn word(self) -> &'static str {
        match self {
            Unit::Request => "request",
            Unit::Message => "message",
        }
    }
}

/// The server's costs over one run. `None`: not counted, and [`missing`]
/// says why. In JSON each per-unit figure is named with its unit
/// (`cpu_us_per_request`, `syscalls_per_message`).
///
/// [`missing`]: Costs::missing
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Costs {
    /// What the figures are per.
    pub unit: Unit,
    /// CPU time, user and system, microseconds.
    pub cpu_us: Option<f64>,
    /// CPU time in the program's own code, microseconds.
    pub user_us: Option<f64>,
    /// CPU time in the kernel on its behalf, microseconds.
    pub sys_us: Option<f64>,
    /// System calls.
    pub syscalls: Option<f64>,
    /// Context switches, voluntary and involuntary.
    pub context_switches: Option<f64>,
    /// Switches where a thread blocked.
    pub voluntary_switches: Option<f64>,
    /// Switches where a thread was preempted.
    pub involuntary_switches: Option<f64>,
    /// The server's CPU time over the run's wall-clock time: 1.0 is a whole
    /// core (not per unit).
    pub cpu_share: Option<f64>,
    /// Why a figure is `None`, by its JSON name.
    pub missing: BTreeMap<String, String>,
}

/// The per-unit figures, by their name without the unit.
const PER_UNIT: [&str; 7] = [
    "cpu_us",
    "user_us",
    "sys_us",
    "syscalls",
    "context_switches",
    "voluntary_switches",
    "involuntary_switches",
];

impl Costs {
    /// No figure yet, each missing for `why`.
    pub(crate) fn none(unit: Unit, why: &str) -> Costs {
        let mut costs = Costs {
            unit,
            ..Costs::default()
        };
        for name in PER_UNIT {
            costs.missing.insert(costs.name(name), why.to_string());
        }
        costs.missing.insert("cpu_share".into(), why.to_string());
        costs
    }

    /// `name` with the unit: `syscalls` → `syscalls_per_request`.
    pub fn name(&self, name: &str) -> String {
        format!("{name}_{}", self.unit.suffix())
    }

    /// The per-unit figure `name` (`"syscalls"`), whatever the unit.
    pub fn get(&self, name: &str) -> Option<f64> {
        match name {
            "cpu_us" => self.cpu_us,
            "user_us" => self.user_us,
            "sys_us" => self.sys_us,
            "syscalls" => self.syscalls,
            "context_switches" => self.context_switches,
            "voluntary_switches" => self.voluntary_switches,
            "involuntary_switches" => self.involuntary_switches,
            "cpu_share" => self.cpu_share,
            _ => None,
        }
    }

    fn slot(&mut self, name: &str) -> Option<&mut Option<f64>> {
        Some(match name {
            "cpu_us" => &mut self.cpu_us,
            "user_us" => &mut self.user_us,
            "sys_us" => &mut self.sys_us,
            "syscalls" => &mut self.syscalls,
            "context_switches" => &mut self.context_switches,
            "voluntary_switches" => &mut self.voluntary_switches,
            "involuntary_switches" => &mut self.involuntary_switches,
            "cpu_share" => &mut self.cpu_share,
            _ => return None,
        })
    }

    /// Sets per-unit figure `name` to `total / work`, or says why not.
    fn set(&mut self, name: &str, total: &Result<f64, String>, work: u64) {
        let full = self.name(name);
        let value = match (total, work) {
            (Err(why), _) => Err(why.clone()),
            (Ok(_), 0) => Err("nothing was answered".to_string()),
            (Ok(total), work) => Ok(total / work as f64),
        };
        match value {
            Ok(value) => {
                if let Some(slot) = self.slot(name) {
                    *slot = Some(value);
                }
                self.missing.remove(&full);
            }
            Err(why) => {
                self.missing.insert(full, why);
            }
        }
    }

    /// One line for the text reports: `9.41 µs CPU per request (user
    /// 1.20, system 8.21), 2.02 system calls, ...`; a dash for a figure that
    /// was not counted, and why at the end.
    pub fn line(&self) -> String {
        let figure = |value: Option<f64>| value.map_or("-".to_string(), short);
        let mut line = format!(
            "{} µs CPU per {} (user {}, system {}), {} system calls, {} context switches ({} voluntary, {} involuntary); {} of a core",
            figure(self.cpu_us),
            self.unit.word(),
            figure(self.user_us),
            figure(self.sys_us),
            figure(self.syscalls),
            figure(self.context_switches),
            figure(self.voluntary_switches),
            figure(self.involuntary_switches),
            self.cpu_share
                .map_or("-".to_string(), |s| format!("{:.0}%", s * 100.0)),
        );
        let reasons: BTreeSet<&str> = self.missing.values().map(String::as_str).collect();
        if !reasons.is_empty() {
            let reasons: Vec<&str> = reasons.into_iter().collect();
            line.push_str(&format!(" [not counted: {}]", reasons.join("; ")));
        }
        line
    }
}

/// A figure with three significant digits or two decimals, whichever is
/// shorter to read: `9.41`, `2.02`, `0.004`, `118`.
pub fn short(value: f64) -> String {
    match value.abs() {
        v if v >= 100.0 => format!("{value:.0}"),
        v if v >= 10.0 => format!("{value:.1}"),
        v if v >= 0.1 || v == 0.0 => format!("{value:.2}"),
        _ => format!("{value:.3}"),
    }
}

impl Serialize for Costs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = Map::new();
        for name in PER_UNIT {
            map.insert(self.name(name), self.get(name).into());
        }
        map.insert("cpu_share".into(), self.cpu_share.into());
        let missing: Map<String, Value> = self
            .missing
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect();
        map.insert("missing".into(), Value::Object(missing));
        map.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Costs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Costs, D::Error> {
        let map = Map::deserialize(deserializer)?;
        let unit = match map.contains_key("cpu_us_per_message") {
            true => Unit::Message,
            false => Unit::Request,
        };
        let mut costs = Costs {
            unit,
            ..Costs::default()
        };
        for name in PER_UNIT.into_iter().chain(["cpu_share"]) {
            let key = match name {
                "cpu_share" => name.to_string(),
                _ => costs.name(name),
            };
            let value = map.get(&key).and_then(Value::as_f64);
            if let Some(slot) = costs.slot(name) {
                *slot = value;
            }
        }
        if let Some(missing) = map.get("missing") {
            costs.missing = serde_json::from_value(missing.clone()).map_err(D::Error::custom)?;
        }
        Ok(costs)
    }
}

/// The bench's side of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Client {
    /// The bench's CPU time (and that of the clients it ran, `ab`, `wrk`)
    /// over the run's wall-clock time: 1.0 is a whole core.
    pub cpu_share: f64,
}

/// A run where the client, not the server, was the limit: the bench used
/// (nearly) its whole core while the server left a fifth of its own idle.
/// Its throughput is the client's and is not ranked; its per-request costs
/// still stand. (`bench load` polls for 50 µs before it sleeps, so under
/// load its core is always busy: only the server's idle time says which
/// side waited for the other.)
pub fn client_bound(server: &Costs, client: &Client) -> bool {
    client.cpu_share >= 0.9 && server.cpu_share.is_some_and(|share| share <= 0.8)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(cpu_ms: u64, syscalls: Result<u64, String>) -> Totals {
        Totals {
            elapsed: Duration::from_secs(2),
            server_cpu: Ok(CpuTimes {
                user: Duration::from_millis(cpu_ms / 4),
                system: Duration::from_millis(cpu_ms - cpu_ms / 4),
            }),
            counts: vec![
                ("syscalls", syscalls),
                ("context_switches", Ok(300)),
                ("voluntary_switches", Ok(200)),
                ("involuntary_switches", Ok(100)),
            ],
            client_cpu: Duration::from_millis(1980),
        }
    }

    /// Totals divided by the work, named with their unit in JSON.
    #[test]
    fn costs_are_per_unit_of_work() {
        let costs = totals(1000, Ok(200_000)).per(100_000, Unit::Request);
        assert_eq!(costs.cpu_us, Some(10.0));
        assert_eq!(costs.user_us, Some(2.5));
        assert_eq!(costs.sys_us, Some(7.5));
        assert_eq!(costs.syscalls, Some(2.0));
        assert_eq!(costs.context_switches, Some(0.003));
        assert_eq!(costs.cpu_share, Some(0.5));
        assert!(costs.missing.is_empty(), "{:?}", costs.missing);
        let json = serde_json::to_value(&costs).unwrap();
        assert_eq!(json["syscalls_per_request"], 2.0);
        assert_eq!(json["cpu_share"], 0.5);
        let echo = totals(1000, Ok(200_000)).per(100_000, Unit::Message);
        let json = serde_json::to_value(&echo).unwrap();
        assert_eq!(json["cpu_us_per_message"], 10.0);
        assert!(json.get("cpu_us_per_request").is_none());
    }

    /// The total CPU is task-clock's nanoseconds where it was counted;
    /// /proc's ticks give only the split between user and system.
    #[test]
    fn the_total_is_exact_and_the_split_is_sampled() {
        let mut totals = totals(1000, Ok(200_000));
        totals.counts.push(("cpu_ns", Ok(1_200_000_000)));
        let costs = totals.per(100_000, Unit::Request);
        assert_eq!(costs.cpu_us, Some(12.0));
        assert_eq!(costs.user_us, Some(3.0));
        assert_eq!(costs.sys_us, Some(9.0));
        assert_eq!(costs.cpu_share, Some(0.6));
        let mut idle = totals.clone();
        idle.server_cpu = Ok(CpuTimes::default());
        let costs = idle.per(100_000, Unit::Request);
        assert_eq!(costs.cpu_us, Some(12.0));
        assert_eq!(costs.user_us, None);
        assert!(costs.missing["user_us_per_request"].contains("ticks"));
        // Ticks that saw less than half of the exact total: no split.
        let mut coarse = totals.clone();
        coarse.server_cpu = Ok(CpuTimes {
            user: Duration::ZERO,
            system: Duration::from_millis(500),
        });
        let costs = coarse.per(100_000, Unit::Request);
        assert_eq!(
            (costs.cpu_us, costs.user_us, costs.sys_us),
            (Some(12.0), None, None)
        );
    }

    /// A figure that was not counted is null with the reason, never 0; the
    /// JSON reads back as it was written.
    #[test]
    fn a_missing_figure_is_null_with_its_reason() {
        let costs = totals(1000, Err("no tracefs".into())).per(100_000, Unit::Request);
        assert_eq!(costs.syscalls, None);
        assert_eq!(costs.missing["syscalls_per_request"], "no tracefs");
        let json = serde_json::to_value(&costs).unwrap();
        assert!(json["syscalls_per_request"].is_null());
        assert_eq!(json["missing"]["syscalls_per_request"], "no tracefs");
        assert!(costs.line().contains("- system calls"), "{}", costs.line());
        assert!(
            costs.line().contains("not counted: no tracefs"),
            "{}",
            costs.line()
        );
        let back: Costs = serde_json::from_value(json).unwrap();
        assert_eq!(back, costs);
        let none = totals(1000, Ok(5)).per(0, Unit::Request);
        assert_eq!(none.cpu_us, None);
        assert_eq!(none.missing["cpu_us_per_request"], "nothing was answered");
        assert_eq!(
            none.cpu_share,
            Some(0.5),
            "the share needs no work to divide by"
        );
    }

    /// Without perf events (a user who is not root), the ticks stand in for
    /// the total only when they saw enough: a short run they saw none of
    /// is "not counted", with why, not 0 µs.
    #[test]
    fn without_perf_too_few_ticks_are_not_a_zero() {
        let mut short = totals(0, Ok(10));
        short
            .counts
            .push(("cpu_ns", Err("perf events not allowed".into())));
        let costs = short.per(1_000, Unit::Request);
        assert_eq!((costs.cpu_us, costs.cpu_share), (None, None));
        let why = &costs.missing["cpu_us_per_request"];
        assert!(
            why.contains("perf events not allowed") && why.contains("ticks"),
            "{why}"
        );
        assert!(costs.line().starts_with("- µs CPU"), "{}", costs.line());
        let mut long = totals(1000, Ok(10));
        long.counts
            .push(("cpu_ns", Err("perf events not allowed".into())));
        assert_eq!(long.per(100_000, Unit::Request).cpu_us, Some(10.0));
    }

    /// The client was the limit only when its core was full and the
    /// server's was not.
    #[test]
    fn client_bound_needs_a_full_client_and_an_idle_server() {
        let server = |share| Costs {
            cpu_share: Some(share),
            ..Costs::default()
        };
        let client = |share| Client { cpu_share: share };
        assert!(client_bound(&server(0.6), &client(0.99)));
        assert!(!client_bound(&server(0.95), &client(0.99)));
        assert!(!client_bound(&server(0.3), &client(0.4)));
        assert!(!client_bound(&Costs::default(), &client(1.0)));
    }

    #[test]
    fn short_figures_stay_readable() {
        assert_eq!(short(9.412), "9.41");
        assert_eq!(short(2.0), "2.00");
        assert_eq!(short(0.0042), "0.004");
        assert_eq!(short(118.4), "118");
        assert_eq!(short(12.34), "12.3");
        assert_eq!(short(0.0), "0.00");
    }
}
