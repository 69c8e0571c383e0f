//! What a run was measured on: the machine, the compiler, the commit and the
//! pinning, recorded in `compare.json` and `sweeps.json` and shown on every
//! results page, so that a reader can tell their run from the book's.
//!
//! Every field is read when the run starts. A field that cannot be read
//! says so in its text (`unknown: ...`), never an empty string.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The machine of one run, as `compare.json` and `sweeps.json` record it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// The kernel's release and architecture: `6.18.44 (x86_64)`. The
    /// costs of a system call, and which io_uring features exist, follow it.
    pub kernel: String,
    /// The CPU's model name, from `/proc/cpuinfo`.
    pub cpu: String,
    /// How many CPUs the machine has online (not how many this process may
    /// use: the bench pins itself to one).
    pub cores: usize,
    /// The machine's memory, GiB (`MemTotal`).
    pub memory_gib: f64,
    /// The compiler that built the servers: `rustc -V`.
    pub rustc: String,
    /// The workspace's commit (`git rev-parse --short HEAD`).
    pub commit: String,
    /// Whether the work tree had changes the commit does not hold (`None`:
    /// not a git checkout).
    pub dirty: Option<bool>,
    /// When the run started, UTC: `2026-12-04 21:05 UTC`.
    pub date: String,
    /// Where the servers and the bench ran: `server on CPU 0, bench on CPU 1`.
    pub pinning: String,
}

impl Machine {
    /// Reads this machine, the workspace at `root`, and how the run pins
    /// (`pinned`: whether the servers and the bench have a CPU each).
    pub fn read(root: &Path, pinned: bool) -> Machine {
        let git =
            |args: &[&str]| command("git", &[&["-C", &root.to_string_lossy()], args].concat());
        let commit = git(&["rev-parse", "--short", "HEAD"]);
        let dirty = match &commit {
            Ok(_) => git(&["status", "--porcelain"]).ok().map(|s| !s.is_empty()),
            Err(_) => None,
        };
        Machine {
            kernel: kernel(),
            cpu: cpu_model(),
            cores: online_cpus(),
            memory_gib: memory_gib().unwrap_or(0.0),
            rustc: command("rustc", &["-V"]).unwrap_or_else(|e| format!("unknown: {e}")),
            commit: commit.unwrap_or_else(|e| format!("unknown: {e}")),
            dirty,
            date: utc(SystemTime::now()),
            pinning: match pinned {
                true => "every server thread on CPU 0, the bench on CPU 1".to_string(),
                false => "not pinned (one CPU)".to_string(),
            },
        }
    }

    /// A table of two columns for the results pages, between the
    /// markers `ANCHOR: machine` of the file that includes it.
    pub fn markdown(machine: Option<&Machine>) -> String {
        let Some(m) = machine else {
            return "The machine of this run was not recorded: it predates the record \
                    (the next run writes it).\n"
                .to_string();
        };
        let commit = match m.dirty {
            Some(true) => format!("`{}`, with uncommitted changes", m.commit),
            Some(false) => format!("`{}`", m.commit),
            None => m.commit.clone(),
        };
        let rows = [
            ("kernel", m.kernel.clone()),
            ("CPU", m.cpu.clone()),
            ("cores", m.cores.to_string()),
            ("memory", format!("{:.1} GiB", m.memory_gib)),
            ("compiler", m.rustc.clone()),
            ("commit", commit),
            ("started", m.date.clone()),
            ("pinning", m.pinning.clone()),
        ];
        let mut text = String::from("| measured on | |\n| --- | --- |\n");
        for (name, value) in rows {
            text.push_str(&format!("| {name} | {value} |\n"));
        }
        text
    }
}

/// The first line `program args` prints, or why there is none.
fn command(program: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if !output.status.success() {
        return Err(format!("{program} {}: {}", args.join(" "), output.status));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text.lines().next().unwrap_or_default().trim().to_string())
}

/// `6.18.44 (x86_64)`: the kernel's release and the architecture.
fn kernel() -> String {
    match std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        Ok(release) => format!("{} ({})", release.trim(), std::env::consts::ARCH),
        Err(e) => format!("unknown: /proc/sys/kernel/osrelease: {e}"),
    }
}

/// The first `model name` of `/proc/cpuinfo` (x86), or its `CPU part`
/// line's value where there is none (arm64 names no model).
fn cpu_model() -> String {
    let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(key, _)| key.trim() == name)
            .map(|(_, value)| value.trim().to_string())
    };
    field("model name")
        .or_else(|| field("CPU part").map(|part| format!("CPU part {part}")))
        .unwrap_or_else(|| "unknown: /proc/cpuinfo names no model".to_string())
}

/// The CPUs online, from `/sys/devices/system/cpu/online` (`0-1`, or
/// `0,2-3`): the machine's, whatever this process is pinned to.
fn online_cpus() -> usize {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    let count: usize = text
        .trim()
        .split(',')
        .filter_map(|range| match range.split_once('-') {
            Some((a, b)) => Some(b.parse::<usize>().ok()? + 1 - a.parse::<usize>().ok()?),
            None => range.parse::<usize>().ok().map(|_| 1),
        })
        .sum();
    count.max(1)
}

/// `MemTotal` of `/proc/meminfo`, in GiB.
fn memory_gib() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / (1024.0 * 1024.0))
}

/// `2026-12-04 21:05 UTC`, from the civil calendar of the Unix day
/// (Howard Hinnant's `civil_from_days`), to keep a date crate out.
fn utc(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        of_day / 3600,
        of_day % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The calendar is right across a leap day, a year's end and the epoch.
    #[test]
    fn dates_are_civil() {
        let at = |s: u64| utc(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01 00:00 UTC");
        assert_eq!(at(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(at(1_798_761_599), "2026-12-31 23:59 UTC");
        assert_eq!(at(1_798_761_600), "2027-01-01 00:00 UTC");
    }

    /// This machine reads as something: a kernel, a CPU count, memory. The
    /// count is the machine's, not the CPUs this thread is pinned to.
    #[test]
    fn this_machine_is_read() {
        let m = Machine::read(Path::new(env!("CARGO_MANIFEST_DIR")), true);
        assert!(m.kernel.contains('('), "{m:?}");
        assert!(m.cores >= 1 && m.memory_gib > 0.0, "{m:?}");
        let all = std::thread::available_parallelism().map_or(1, |n| n.get());
        // Pinned to one CPU, as the bench pins itself: still the machine's.
        let mut one = nix::sched::CpuSet::new();
        one.set(0).unwrap();
        nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &one).unwrap();
        assert!(m.cores >= all, "{m:?}, {all} CPUs usable");
        assert_eq!(Machine::read(Path::new("."), true).cores, m.cores);
        assert!(!m.cpu.is_empty() && !m.rustc.is_empty(), "{m:?}");
    }

    /// A run that predates the record says so; one that has it shows
    /// every field, the dirty tree included.
    #[test]
    fn the_table_shows_every_field_or_says_it_is_missing() {
        assert!(Machine::markdown(None).contains("not recorded"));
        let m = Machine {
            kernel: "6.18.44 (x86_64)".into(),
            cpu: "Some CPU".into(),
            cores: 2,
            memory_gib: 23.5,
            rustc: "rustc 1.95.0".into(),
            commit: "abc1234".into(),
            dirty: Some(true),
            date: "2026-12-04 21:05 UTC".into(),
            pinning: "p".into(),
        };
        let table = Machine::markdown(Some(&m));
        for part in ["6.18.44", "Some CPU", "| 2 |", "23.5 GiB", "rustc 1.95.0"] {
            assert!(table.contains(part), "{part}: {table}");
        }
        assert!(
            table.contains("`abc1234`, with uncommitted changes"),
            "{table}"
        );
    }
}
