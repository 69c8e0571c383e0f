//! A server started for one measurement: on a free port, pinned to CPU 0,
//! stopped by its PID when dropped; and pinning itself.

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{Variant, Workspace};

/// A server started for one scenario; stopped (SIGTERM, then SIGKILL) on drop.
pub struct Server {
    /// The process, when we started it ourselves (nginx is started by its
    /// script, and is not our child).
    child: Option<Child>,
    /// Its process ID (nginx: the master's).
    pid: u32,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `binary` with `args` on a free port and waits up to 10 s for
    /// its `listening on` line.
    pub fn start(binary: &Path, args: &[String]) -> io::Result<Server> {
        Server::launch(binary, args, false)
    }

    /// As [`Server::start`]; with `keep_stderr`, a server that does not
    /// start is waited for and the error names the first line it printed
    /// on stderr (`io_uring_setup failed: ...`). Only for a server that is
    /// stopped at once: a running server's stderr is never read, and would
    /// fill.
    fn launch(binary: &Path, args: &[String], keep_stderr: bool) -> io::Result<Server> {
        let mut command = Command::new(binary);
        // A lab killed outright (`bench live` in a terminal that closed)
        // leaves no server running.
        crate::sys::die_with_parent(&mut command);
        let mut child = command
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(match keep_stderr {
                true => Stdio::piped(),
                false => Stdio::null(),
            })
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout"))?;
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = send.send(line);
        });
        let line = receive
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_default();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok());
        let Some(addr) = addr else {
            // It printed no address: it has exited, or is stuck. Either
            // way it is ended here, and what it said is the error.
            let _ = child.kill();
            let _ = child.wait();
            let mut said = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut stderr, &mut said);
            }
            return Err(io::Error::other(match said.lines().next() {
                Some(first) => first.trim().to_string(),
                None => format!("no `listening on` line (got {line:?})"),
            }));
        };
        let server = Server {
            pid: child.id(),
            child: Some(child),
            addr,
        };
        settle_and_pin(server.pid());
        Ok(server)
    }

    /// Starts nginx with `repo`'s `bench/nginx/nginx.sh` on a free port,
    /// and pins its master and worker to CPU 0.
    pub fn nginx(repo: &Path) -> io::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let output = Command::new(repo.join("bench/nginx/nginx.sh"))
            .args(["start", &port.to_string()])
            .stderr(Stdio::inherit())
            .output()?;
        let pid: u32 = String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .map_err(|_| io::Error::other("nginx.sh start printed no PID"))?;
        settle_and_pin(pid);
        Ok(Server {
            child: None,
            pid,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        })
    }

    /// Its process ID.
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = Pid::from_raw(self.pid as i32);
        // nginx's master waits over a second for its worker after a
        // SIGTERM; nothing of it is measured any more, so its processes
        // (the master and the worker it forked) are killed at once.
        if self.child.is_none() {
            for process in loadgen::procfs::tree(self.pid) {
                let _ = kill(Pid::from_raw(process as i32), Signal::SIGKILL);
            }
        }
        let _ = kill(pid, Signal::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(4) {
            let gone = match &mut self.child {
                Some(child) => matches!(child.try_wait(), Ok(Some(_))),
                // Not our child: gone when it has exited, whether or not
                // its new parent (init) has reaped it yet (a zombie).
                None => loadgen::procfs::exited(self.pid),
            };
            if gone {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = kill(pid, Signal::SIGKILL);
        if let Some(child) = &mut self.child {
            let _ = child.wait();
        }
    }
}

/// A moment for a server that just printed `listening on` to start its
/// threads and workers (`epoll --workers 2` starts its worker threads just
/// after).
const SETTLE: Duration = Duration::from_millis(10);

/// Lets a server that just started finish starting, then pins every thread
/// of it and of its children to CPU 0, again until no new thread appears
/// (the threads and children it starts later inherit the pin from their
/// creator).
fn settle_and_pin(pid: u32) {
    let mut pinned = std::collections::BTreeSet::new();
    for _ in 0..20 {
        std::thread::sleep(SETTLE);
        let now = loadgen::procfs::tree_threads(pid);
        if !pinned.is_empty() && now.is_subset(&pinned) {
            return;
        }
        for &thread in now.difference(&pinned) {
            pin(thread, 0);
        }
        pinned.extend(now);
    }
}

/// Pins process or thread `pid` (0: this one) to `cpu`: the server on CPU 0, the
/// bench on CPU 1, so neither steals from the other and the ratios between
/// servers hold. Best effort: on a machine with one CPU the call fails and
/// nothing is pinned: `false`. (A server inherits the bench's CPU when it
/// starts, and is moved to its own as soon as it listens.)
pub fn pin(pid: u32, cpu: usize) -> bool {
    let mut set = nix::sched::CpuSet::new();
    set.set(cpu).is_ok() && nix::sched::sched_setaffinity(Pid::from_raw(pid as i32), &set).is_ok()
}

/// Starts `variant` with `extra` flags after its model flags: its binary in
/// the workspace's release directory, or nginx through its script (which
/// takes no flags).
pub fn start(variant: &Variant, extra: &[&str], workspace: &Workspace) -> Result<Server, String> {
    let mut args = variant.args.clone();
    args.extend(extra.iter().map(|a| a.to_string()));
    let started = match variant.static_only {
        true => Server::nginx(&workspace.root),
        false => Server::start(&workspace.bin_dir.join(&variant.binary), &args),
    };
    started.map_err(|err| format!("start: {err}"))
}

/// Whether `variant` can run on this machine at all: it is started once,
/// as a run would start it, and stopped. `Err` is why not, in the server's
/// own words: `uring` where io_uring is missing, refused or too old says
/// which. compare gives such a server `n/a` cells instead of failing each
/// of them after its run.
pub fn can_start(variant: &Variant, workspace: &Workspace) -> Result<(), String> {
    let started = match variant.static_only {
        true => Server::nginx(&workspace.root),
        false => Server::launch(
            &workspace.bin_dir.join(&variant.binary),
            &variant.args,
            true,
        ),
    };
    match started {
        Ok(_server) => Ok(()), // stopped when dropped
        Err(err) => {
            // The server's line starts with its name: `uring: ...`.
            let text = err.to_string();
            let prefix = format!("{}: ", variant.binary);
            Err(text.strip_prefix(&prefix).unwrap_or(&text).to_string())
        }
    }
}
