//! Starting a server binary for one case, and everything a case does to the
//! process itself.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::Target;

/// How long a server may take to print `listening on`.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running server, killed (by its PID) when dropped.
pub struct Running {
    child: Child,
    /// The address from its `listening on` line.
    pub addr: SocketAddr,
    /// Its stderr goes to a file, read back to look for panics.
    stderr: PathBuf,
    /// Keeps the stderr file (and any site) alive for the case.
    _dir: tempfile::TempDir,
}

impl Target {
    /// Starts the server with this target's model flags, `--addr
    /// 127.0.0.1:0` and `extra`, and waits for its `listening on` line.
    pub fn start(&self, extra: &[&str]) -> Result<Running, String> {
        self.spawn(extra, None)
    }

    /// [`Target::start`] with the server's open-file limit, soft *and*
    /// hard, set to `nofile` (the server raises its soft limit to the hard
    /// one at start, so both are set): for running it out of fds.
    pub fn start_with_nofile(&self, extra: &[&str], nofile: u64) -> Result<Running, String> {
        self.spawn(extra, Some(nofile))
    }

    fn spawn(&self, extra: &[&str], nofile: Option<u64>) -> Result<Running, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
        let stderr = dir.path().join("stderr");
        let stderr_file = std::fs::File::create(&stderr).map_err(|e| e.to_string())?;
        let mut command = Command::new(&self.binary);
        command
            .args(&self.args)
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr_file);
        if let Some(nofile) = nofile {
            let limit = move || {
                setrlimit(Resource::RLIMIT_NOFILE, nofile, nofile).map_err(std::io::Error::from)
            };
            // SAFETY: the closure runs in the child between fork and exec,
            // where only async-signal-safe calls are allowed. It makes one
            // system call, setrlimit(2), which is async-signal-safe, and
            // neither allocates nor takes a lock.
            unsafe { command.pre_exec(limit) };
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))?;

        // Read stdout on a thread, so a silent server means a timeout here,
        // not a hang. The thread keeps draining stdout until the server exits.
        let stdout = child.stdout.take().expect("stdout is piped");
        let (first_line, line) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = first_line.send(lines.next());
            for _ in lines {}
        });
        let line = match line.recv_timeout(START_TIMEOUT) {
            Ok(Some(Ok(line))) => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                let err = std::fs::read_to_string(&stderr).unwrap_or_default();
                return Err(format!("no `listening on` line ({other:?}); stderr: {err}"));
            }
        };
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|addr| addr.parse().ok())
            .ok_or_else(|| format!("first stdout line is {line:?}, not `listening on ADDR`"))?;
        Ok(Running {
            child,
            addr,
            stderr,
            _dir: dir,
        })
    }

    /// Runs the binary with exactly `args` (no `--addr` added) to completion,
    /// within `limit`: for flag and start-up error cases.
    pub fn run_to_exit(&self, args: &[&str], limit: Duration) -> Result<Exited, String> {
        let mut child = Command::new(&self.binary)
            .args(&self.args)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))?;
        let Some(status) = wait_within(&mut child, limit)? else {
            // It should have exited (a bad flag, a start-up failure) but is
            // serving instead: end it, so a failed case leaves no server behind.
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{args:?}: still running after {limit:?}"));
        };
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        Ok(Exited {
            status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

/// How a process run to completion ended.
#[derive(Debug)]
pub struct Exited {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Everything it printed on stderr.
    pub stderr: String,
}

/// Waits for `child` to exit, polling, for at most `limit`.
fn wait_within(child: &mut Child, limit: Duration) -> Result<Option<ExitStatus>, String> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(Some(status));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(None)
}

impl Running {
    /// The server's process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` to the server.
    pub fn signal(&self, signal: Signal) -> Result<(), String> {
        kill(Pid::from_raw(self.child.id() as i32), signal).map_err(|e| e.to_string())
    }

    /// Waits up to `limit` for the server to exit by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> Result<Option<ExitStatus>, String> {
        wait_within(&mut self.child, limit)
    }

    /// CPU time the server has used so far, user and system, all threads
    /// (`/proc/PID/stat`, fields 14 and 15, in USER_HZ ticks: 100 a second
    /// on every Linux).
    pub fn cpu_time(&self) -> Result<Duration, String> {
        let path = format!("/proc/{}/stat", self.child.id());
        let stat = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        // The command name (field 2) may hold spaces: count from after it.
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        match (ticks(11), ticks(12)) {
            (Some(user), Some(system)) => Ok(Duration::from_millis((user + system) * 10)),
            _ => Err(format!("cannot parse {path}: {stat:?}")),
        }
    }

    /// The memory the server and every process it started have written to,
    /// in bytes: the sum of their `Private_Dirty` (`/proc/PID/smaps_rollup`).
    /// That is heap, stacks and buffers, what a client can make a server
    /// allocate. (Not the RSS or the PSS: they count the binary's own pages,
    /// whose share moves as other copies of the same binary start and stop,
    /// as they do when the suite runs cases in parallel. A forked child is
    /// charged only for the pages it has written, not for what it still
    /// shares with its parent.)
    pub fn memory(&self) -> Result<u64, String> {
        self.sum_kib("smaps_rollup", "Private_Dirty:")
    }

    /// The resident set size of the server and every process it started,
    /// in bytes (`VmRSS`): shown beside [`Running::memory`], not checked,
    /// since it also grows as the binary's own code is first run.
    pub fn rss(&self) -> Result<u64, String> {
        self.sum_kib("status", "VmRSS:")
    }

    /// `field` (in kB) of `/proc/PID/FILE`, summed over the server and
    /// every process it started, in bytes.
    fn sum_kib(&self, file: &str, field: &str) -> Result<u64, String> {
        let mut total = 0;
        let mut pending = vec![self.child.id()];
        while let Some(pid) = pending.pop() {
            let path = format!("/proc/{pid}/{file}");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue; // it exited and was reaped meanwhile
            };
            let kib = text
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<u64>().ok());
            match kib {
                Some(kib) => total += kib * 1024,
                // A child that has exited and is not yet reaped (a zombie:
                // a forking server reaps its children between accepts)
                // keeps its /proc entry but no memory, and no such line.
                None if exited(pid) => continue,
                None => return Err(format!("no {field} in {path}")),
            }
            pending.extend(children(pid));
        }
        Ok(total)
    }

    /// The processes the server started that are still there (a forking
    /// server's children), by PID.
    pub fn children(&self) -> Vec<u32> {
        children(self.child.id())
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Ends the case: the server must still be running (nothing crashed it)
    /// and must not have printed a panic. Then it is killed.
    pub fn finish(mut self) -> Result<(), String> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Err(format!(
                "the server died during the case: {status}; stderr: {}",
                self.stderr()
            ));
        }
        let stderr = self.stderr();
        if stderr.contains("panicked") {
            return Err(format!("the server panicked: {stderr}"));
        }
        Ok(())
    }
}

/// Whether `pid` has exited: gone from /proc, or still there as a zombie
/// that its parent has not reaped yet (state `Z` in `/proc/PID/stat`).
pub fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses
        // and may itself contain them: look after the last one.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_none_or(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

/// The children of every thread of `pid` (`/proc/PID/task/*/children`: a
/// process forked by any thread is listed under that thread).
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
