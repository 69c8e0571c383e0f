//! Reading a process's memory and CPU from `/proc`, for `hold --pid`.

use std::time::Duration;

/// Resident memory and CPU time of a process and its direct children (so
/// nginx's master and worker, or a forking server's children, count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Resident set size, bytes.
    pub rss: u64,
    /// User + system CPU time.
    pub cpu: Duration,
}

/// Clock ticks per second for `/proc/PID/stat` times (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: u64 = 100;

/// The usage of `pid` and its children, or `None` if it is gone.
pub fn usage(pid: u32) -> Option<Usage> {
    let mut total = one(pid)?;
    for child in children(pid) {
        if let Some(usage) = one(child) {
            total.rss += usage.rss;
            total.cpu += usage.cpu;
        }
    }
    Some(total)
}

/// The bench's own peak resident memory (VmHWM), bytes.
pub fn own_peak_rss() -> u64 {
    status_kb("self", "VmHWM:").unwrap_or(0) * 1024
}

/// The bench's own usage, without its children (the servers `bench
/// compare` starts are its children, and are measured on their own).
pub fn own() -> Option<Usage> {
    one(std::process::id())
}

fn one(pid: u32) -> Option<Usage> {
    let rss = status_kb(&pid.to_string(), "VmRSS:")? * 1024;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) in parentheses.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Usage {
        rss,
        cpu: Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND),
    })
}

fn status_kb(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The direct children of `pid` (nginx's workers, a forking server's children).
pub fn children(pid: u32) -> Vec<u32> {
    let path = format!("/proc/{pid}/task/{pid}/children");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test process itself has some memory and some CPU time.
    #[test]
    fn reads_own_process() {
        let own = usage(std::process::id()).unwrap();
        assert!(own.rss > 100_000, "{own:?}");
        assert!(own_peak_rss() >= own.rss / 2);
        assert!(usage(u32::MAX).is_none());
    }
}
