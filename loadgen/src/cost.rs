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
//!
//! Here the figures ([`Costs`], [`Client`]) and their JSON; `meter` opens
//! the counters and adds them up ([`Meter`], [`Totals`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

mod meter;

pub use meter::{Meter, Totals, available};

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
    pub fn none(unit: Unit, why: &str) -> Costs {
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
            // Every figure is written, `null` when it was not counted: one
            // that is absent, or not a number, is a record that is not
            // one of ours.
            let value =
                match map.get(&key) {
                    None => return Err(D::Error::custom(format!("missing field `{key}`"))),
                    Some(Value::Null) => None,
                    Some(value) => Some(value.as_f64().ok_or_else(|| {
                        D::Error::custom(format!("`{key}`: not a number: {value}"))
                    })?),
                };
            if let Some(slot) = costs.slot(name) {
                *slot = value;
            }
        }
        let missing = map
            .get("missing")
            .ok_or_else(|| D::Error::custom("missing field `missing`"))?;
        costs.missing = serde_json::from_value(missing.clone()).map_err(D::Error::custom)?;
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

#[cfg(test)]
mod tests;
