//! Reading a process's memory and CPU from `/proc`: for `hold --pid`, and
//! for the CPU time of a server's whole process tree (see [`crate::cost`]).

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

/// Clock ticks per second of `/proc/PID/stat`'s times (USER_HZ), as the
/// system says (`sysconf(_SC_CLK_TCK)`; 100 on every Linux we know of, and
/// 100 if it will not say).
fn ticks_per_second() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        use nix::unistd::{SysconfVar, sysconf};
        match sysconf(SysconfVar::CLK_TCK) {
            Ok(Some(ticks)) if ticks > 0 => ticks as u64,
            _ => 100,
        }
    })
}

/// `ticks` of `/proc/PID/stat` as a time.
fn ticks_to_time(ticks: u64) -> Duration {
    Duration::from_micros(ticks * 1_000_000 / ticks_per_second())
}

pub use conformance::server::exited;

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

/// The machine's kernel stacks (`KernelStack` in `/proc/meminfo`), bytes:
/// every thread has one, and it is in no process's RSS.
pub fn kernel_stack() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("KernelStack:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
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
        cpu: ticks_to_time(ticks),
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

/// `pid` and every process below it: children of any of its threads, their
/// children, and so on (a preforked worker, a forking server's children).
pub fn tree(pid: u32) -> Vec<u32> {
    let mut found = vec![pid];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        next += 1;
        for thread in threads(parent) {
            let path = format!("/proc/{parent}/task/{thread}/children");
            let text = std::fs::read_to_string(path).unwrap_or_default();
            found.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    found
}

/// Every thread of every process of `pid`'s tree, by thread ID.
pub fn tree_threads(pid: u32) -> std::collections::BTreeSet<u32> {
    tree(pid).into_iter().flat_map(threads).collect()
}

/// The threads of process `pid`, by thread ID (empty if it is gone).
pub fn threads(pid: u32) -> Vec<u32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|dir| {
            dir.flatten()
                .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// CPU time of a process tree, user and system apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    /// Time spent running the program's own code.
    pub user: Duration,
    /// Time spent in the kernel on its behalf (system calls, faults).
    pub system: Duration,
}

/// The CPU time of `pid` and every process below it, each with the children
/// it has already reaped (`cutime`, `cstime`): a process that was forked
/// and reaped between two readings counts in its parent's. The kernel keeps
/// these in clock ticks (10 ms); `None` if `pid` is gone.
pub fn tree_cpu(pid: u32) -> Option<CpuTimes> {
    let mut total = cpu_times(pid)?;
    for process in tree(pid).into_iter().skip(1) {
        if let Some(times) = cpu_times(process) {
            total.user += times.user;
            total.system += times.system;
        }
    }
    Some(total)
}

/// One process's CPU time, its reaped children's included.
fn cpu_times(pid: u32) -> Option<CpuTimes> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime, stime, cutime, cstime are fields 14 to 17 of stat, 12 to 15
    // after the name (`man 5 proc`).
    let ticks = |i: usize| -> Option<u64> { fields.get(i)?.parse().ok() };
    Some(CpuTimes {
        user: ticks_to_time(ticks(11)? + ticks(13)?),
        system: ticks_to_time(ticks(12)? + ticks(14)?),
    })
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
        assert!(tree_cpu(u32::MAX).is_none());
    }

    /// A process that has exited counts as gone while it is still a
    /// zombie, not yet reaped; a running one does not.
    #[test]
    fn a_zombie_has_exited() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        assert!(!exited(std::process::id()));
        // Not reaped yet: a zombie once it has run.
        let mut zombie = false;
        for _ in 0..200 {
            if exited(pid) {
                zombie = std::path::Path::new(&format!("/proc/{pid}")).exists();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(zombie, "pid {pid} never showed as an exited zombie");
        child.wait().unwrap();
        assert!(exited(pid));
    }

    /// A shell's tree holds the shell and its child; the CPU a subshell
    /// burned before the shell reaped it counts in the tree's time.
    #[test]
    fn a_tree_holds_the_children_and_the_time_of_the_reaped_ones() {
        // About 0.4 s of CPU in a subshell, reaped, then a `sleep` child.
        let busy = "(i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done); sleep 5 & wait";
        let mut shell = std::process::Command::new("sh")
            .args(["-c", busy])
            .spawn()
            .unwrap();
        let pid = shell.id();
        // Wait until the shell's one child is the `sleep`: the subshell is reaped.
        let comm = |pid: &u32| std::fs::read_to_string(format!("/proc/{pid}/comm"));
        let mut tree_now = tree(pid);
        for _ in 0..200 {
            if tree_now.len() == 2 && comm(&tree_now[1]).is_ok_and(|c| c.trim() == "sleep") {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
            tree_now = tree(pid);
        }
        let cpu = tree_cpu(pid).unwrap();
        shell.kill().unwrap();
        shell.wait().unwrap();
        assert_eq!(tree_now.len(), 2, "the shell and its sleep: {tree_now:?}");
        assert!(
            cpu.user + cpu.system >= Duration::from_millis(200),
            "the reaped subshell's CPU: {cpu:?}"
        );
        assert!(threads(std::process::id()).contains(&std::process::id()));
    }
}
