//! `bench compare`: every model binary of the workspace, in each of its flag
//! variants, through the same scenarios, one server at a time.
//!
//! - **Which servers.** Every binary target of the workspace but `bench`
//!   itself, as `cargo metadata` lists them: a model added to the workspace
//!   is picked up with no change here. [`variants`] knows the model flags
//!   worth comparing (`epoll --trigger edge`, `threaded --pool 8`, ...) and
//!   each model's limits; a binary it does not know runs with no flags.
//! - **Building.** `cargo build --release --workspace --exclude bench --bins`
//!   first: cargo rebuilds what is missing or stale, so the command works
//!   on a fresh clone.
//! - **One server at a time**, on a free port (`--addr 127.0.0.1:0`, then
//!   its `listening on` line), pinned to CPU 0 while the bench runs on CPU 1
//!   (on a machine with two or more), stopped with SIGTERM by its PID.
//! - **A model that cannot run a scenario says why** in the cell (the
//!   blocking server serves one connection at a time; `select` refuses fds
//!   at or above FD_SETSIZE), never a blank.
//! - **nginx, when installed**, is a reference row in the HTTP scenarios
//!   ([`nginx`]), started by `bench/nginx/nginx.sh`.
//! - The report (a table, `compare.json`, `compare.md`, and the SVG charts
//!   of [`crate::chart`]) is written by `main.rs`.

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use plumbing::model::Limits;
use serde::{Deserialize, Serialize};

mod cell;
mod progress;
mod scenario;
mod sweep;

pub use cell::{Cell, Round, median, spread};
pub use progress::Progress;
pub use scenario::{Better, Durations, Scenario};
pub use sweep::{BUSY, MemoryLine, SERVER_ARGS, Sweep, memory_line};

/// The most connections a hold or a sweep asks of a process per
/// connection: a thousand processes are already the lesson.
pub const PROCESS_CAP: usize = 1_000;

/// The most asked of a thread per connection, or of nginx (which reset 256
/// of 19,000 connections opened at 5,000 a second in one full run, why is
/// not known yet; it holds 10,000).
pub const THREAD_CAP: usize = 10_000;

/// Why a server that serves `n` connections at a time cannot run a load
/// of more: the rest would wait in the backlog for ever.
pub fn why_at_a_time(n: usize) -> String {
    match n {
        1 => "one conn. at a time".to_string(),
        n => format!("{n} conn. at a time"),
    }
}

/// One server to measure: a binary and its model flags.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Variant {
    /// The binary and its flags, as the table shows it.
    pub name: String,
    /// The binary's name in `target/release`.
    pub binary: String,
    /// Its model flags.
    pub args: Vec<String>,
    /// What it cannot do, as its model crate declares it (the limits the
    /// conformance suite adjusts to).
    #[serde(skip)]
    pub limits: Limits,
    /// nginx, the reference: static files over HTTP, no routes, no echo.
    #[serde(skip)]
    pub static_only: bool,
}

/// Every model crate's declaration of its binaries.
const DECLARED: [&[plumbing::model::Binary]; 11] = [
    blocking::BINARIES,
    forking::BINARIES,
    threaded::BINARIES,
    nonblocking::BINARIES,
    select::BINARIES,
    epoll::BINARIES,
    signal_driven::BINARIES,
    coroutine::BINARIES,
    async_await::BINARIES,
    uring::BINARIES,
    tokio_ref::BINARIES,
];

/// The binaries that are not models but references, measured beside them
/// and marked so in every table: tokio, the production runtime, beside
/// `async_await`'s hand-made one. (nginx, the other reference, is not a
/// binary of the workspace: see [`nginx`].)
pub const REFERENCES: &[&str] = &["tokio_ref"];

/// How a table names a variant: its binary and flags, and `(reference)`
/// after a reference's.
pub fn shown_name(binary: &str, args: &[&str]) -> String {
    let mut name = std::iter::once(binary)
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    if REFERENCES.contains(&binary) {
        name.push_str(" (reference)");
    }
    name
}

/// The default variant of `binary` as its model crate declares it, with
/// its limits (no flags and no limits for a binary no crate declares).
pub fn declared_default(binary: &str) -> plumbing::model::Variant {
    DECLARED
        .iter()
        .flat_map(|binaries| binaries.iter())
        .find(|b| b.name == binary)
        .and_then(|b| b.variants.first().copied())
        .unwrap_or(plumbing::model::Variant::default_with(Limits::NONE))
}

/// The variants of `binary` to measure, the default first, as its model
/// crate declares them with their limits. A binary no crate declares runs
/// once, with no flags and no limits.
pub fn variants(binary: &str) -> Vec<Variant> {
    declared_variants(binary, true)
}

/// The variants of `binary` its model crate declares but does not measure
/// in every run: experiments, measured when `--only` names them.
pub fn experiments(binary: &str) -> Vec<Variant> {
    let declared = DECLARED.iter().flat_map(|binaries| binaries.iter());
    match declared.clone().any(|b| b.name == binary) {
        true => declared_variants(binary, false),
        false => Vec::new(),
    }
}

/// The declared variants of `binary` that are (or are not) `measured`.
fn declared_variants(binary: &str, measured: bool) -> Vec<Variant> {
    let declared = DECLARED
        .iter()
        .flat_map(|binaries| binaries.iter())
        .find(|b| b.name == binary);
    let Some(declared) = declared else {
        return vec![Variant {
            name: binary.to_string(),
            binary: binary.to_string(),
            args: Vec::new(),
            limits: Limits::NONE,
            static_only: false,
        }];
    };
    declared
        .variants
        .iter()
        .filter(|v| v.measured == measured)
        .map(|v| Variant {
            name: shown_name(binary, v.args),
            binary: binary.to_string(),
            args: v.args.iter().map(|a| a.to_string()).collect(),
            limits: v.limits,
            static_only: false,
        })
        .collect()
}

/// nginx as a reference row, when it is installed (`/usr/sbin/nginx` or on
/// `PATH`): started by `bench/nginx/nginx.sh` with one worker, the same
/// `www/` as root, no access log.
pub fn nginx() -> Option<Variant> {
    let installed = Path::new("/usr/sbin/nginx").exists()
        || std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("nginx").exists()));
    installed.then(nginx_row)
}

/// The nginx row, whether or not nginx is installed.
fn nginx_row() -> Variant {
    Variant {
        name: "nginx (reference)".to_string(),
        binary: "nginx".to_string(),
        args: Vec::new(),
        limits: Limits::NONE,
        static_only: true,
    }
}

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
        let mut child = Command::new(binary)
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
            for process in crate::procfs::tree(self.pid) {
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
                None => crate::procfs::exited(self.pid),
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
        let now = crate::procfs::tree_threads(pid);
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

/// Runs one round of `scenario` against `variant`, on a server started for
/// it and stopped after.
pub fn measure(
    variant: &Variant,
    scenario: Scenario,
    workspace: &Workspace,
    durations: &Durations,
) -> Result<Round, String> {
    let server = start(variant, scenario.server_args(), workspace)?;
    scenario
        .measure(&server, variant, durations)
        .map_err(|err| err.to_string())
}

/// What `cargo metadata` says of the workspace.
pub struct Workspace {
    /// Every binary target but `bench`'s.
    pub binaries: Vec<String>,
    /// Where their release builds land.
    pub bin_dir: PathBuf,
    /// cargo's target directory: where a run writes unless told otherwise.
    pub target_dir: PathBuf,
    /// The repository (for `bench/nginx/nginx.sh`).
    pub root: PathBuf,
}

impl Workspace {
    /// The book's results directory, which a run writes only when asked
    /// (`--book`), wherever it is run from.
    pub fn results(&self) -> PathBuf {
        self.root.join("docs/src/results")
    }

    /// Where a run writes: the book's results with `book`, otherwise
    /// `target/NAME`, so that a reader's run never rewrites the book.
    pub fn out(&self, book: bool, name: &str) -> PathBuf {
        match book {
            true => self.results(),
            false => self.target_dir.join(name),
        }
    }
}

/// Every binary target of the workspace but `bench`, with the directory
/// its release build lands in: from `cargo metadata` of the workspace this
/// bench was built in, wherever it is run from (or of the directory it is
/// run in, if that workspace is gone).
pub fn workspace() -> io::Result<Workspace> {
    let output = cargo_command()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(io::Error::other("cargo metadata failed"));
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(io::Error::other)?;
    let target_dir = metadata["target_directory"]
        .as_str()
        .ok_or_else(|| io::Error::other("cargo metadata: no target_directory"))?;
    let mut binaries = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        if package["name"] == "bench" {
            continue;
        }
        for target in package["targets"].as_array().into_iter().flatten() {
            let is_bin = target["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"));
            if let (true, Some(name)) = (is_bin, target["name"].as_str()) {
                binaries.push(name.to_string());
            }
        }
    }
    let root = metadata["workspace_root"]
        .as_str()
        .ok_or_else(|| io::Error::other("cargo metadata: no workspace_root"))?;
    Ok(Workspace {
        binaries,
        bin_dir: Path::new(target_dir).join("release"),
        target_dir: PathBuf::from(target_dir),
        root: PathBuf::from(root),
    })
}

/// The forking chapter's measurement apart: what a new process costs next
/// to a new thread (`cargo run --release -p forking --example spawn_cost --
/// --json`), pinned to CPU 0 like the servers. Its JSON object, as printed.
pub fn spawn_cost() -> io::Result<serde_json::Value> {
    let mut child = cargo_command()
        .args([
            "run",
            "--release",
            "-q",
            "-p",
            "forking",
            "--example",
            "spawn_cost",
        ])
        .args(["--", "--json"])
        .stdout(Stdio::piped())
        .spawn()?;
    // cargo builds, then runs the example as its child: pin the example
    // once it is there (its forks and threads inherit the pin).
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        let tree = crate::procfs::tree(child.id());
        if let Some(&example) = tree.get(1) {
            for thread in crate::procfs::threads(example) {
                pin(thread, 0);
            }
            break;
        }
        if child.try_wait()?.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!("spawn_cost: {}", output.status)));
    }
    serde_json::from_slice(&output.stdout).map_err(io::Error::other)
}

/// Builds every server's `targets` (`--bins`, or `--examples` for the
/// cores) in release mode; cargo skips what is fresh.
pub fn build(targets: &str) -> io::Result<()> {
    let status = cargo_command()
        .args([
            "build",
            "--release",
            "--workspace",
            "--exclude",
            "bench",
            targets,
        ])
        .status()?;
    match status.success() {
        true => Ok(()),
        false => Err(io::Error::other("cargo build failed")),
    }
}

/// The cargo that runs us (`CARGO` under `cargo run`), or `cargo`, in the
/// workspace this bench was built in, wherever it is run from (or in the
/// directory it is run in, if that workspace is gone).
fn cargo_command() -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if built_in.join("Cargo.toml").exists() {
        command.current_dir(built_in);
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(name: &str) -> Variant {
        let binary = name.split(' ').next().unwrap_or_default();
        variants(binary)
            .into_iter()
            .find(|v| v.name == name)
            .unwrap_or_else(|| panic!("no variant {name:?}"))
    }

    /// compare measures what the model crates declare measured: the same
    /// rows as the committed runs, in the same order.
    #[test]
    fn the_measured_variants_are_the_declared_ones() {
        let binaries = [
            "blocking",
            "forking",
            "threaded",
            "nonblocking",
            "select",
            "poll",
            "epoll",
            "epoll-mio",
            "signal_driven",
            "coroutine",
            "async_await",
            "uring",
            "tokio_ref",
        ];
        let names: Vec<String> = binaries
            .iter()
            .flat_map(|b| variants(b))
            .map(|v| v.name)
            .collect();
        assert_eq!(
            names,
            [
                "blocking",
                "forking",
                "forking --workers 2",
                "threaded",
                "threaded --pool 8",
                "nonblocking",
                "select",
                "poll",
                "epoll",
                "epoll --trigger edge",
                "epoll --workers 2",
                "epoll-mio",
                "signal_driven",
                "signal_driven --sigpending 1",
                "coroutine",
                "coroutine --workers 2",
                "async_await",
                "uring",
                "uring --shots single",
                "tokio_ref (reference)",
                "tokio_ref --workers 2 (reference)",
            ]
        );
    }

    /// Every binary's first variant is the binary as it comes, with no flags:
    /// what `--quick` runs. A binary the table does not know runs that way too.
    #[test]
    fn the_first_variant_has_no_flags() {
        for binary in [
            "blocking",
            "forking",
            "threaded",
            "epoll",
            "uring",
            "some-new-model",
        ] {
            let first = &variants(binary)[0];
            assert_eq!((first.name.as_str(), first.args.len()), (binary, 0));
        }
    }

    /// A server that serves N connections at a time can run only the
    /// scenario whose connections come and go; the cell says why for the
    /// others. select's FD_SETSIZE stops only the full hold.
    #[test]
    fn limits_say_which_scenarios_cannot_run() {
        let reason =
            |name: &str, scenario: Scenario, quick: bool| scenario.cannot(&variant(name), quick);
        assert_eq!(reason("blocking", Scenario::Close, false), None);
        assert_eq!(
            reason("blocking", Scenario::KeepAlive, false).as_deref(),
            Some("one conn. at a time")
        );
        assert_eq!(
            reason("threaded --pool 8", Scenario::Echo, false).as_deref(),
            Some("8 conn. at a time")
        );
        assert_eq!(
            reason("forking --workers 2", Scenario::Delay, false).as_deref(),
            Some("2 conn. at a time")
        );
        assert_eq!(reason("threaded", Scenario::Hold, false), None);
        assert_eq!(reason("forking", Scenario::Delay, false), None);
        assert_eq!(
            reason("select", Scenario::Hold, false).as_deref(),
            Some("fds >= 1024 refused")
        );
        assert_eq!(reason("select", Scenario::Hold, true), None); // 300 fit
        assert_eq!(reason("epoll --trigger edge", Scenario::Hold, false), None);
        let nginx = nginx_row();
        assert_eq!(Scenario::KeepAlive.cannot(&nginx, false), None);
        assert_eq!(Scenario::Hold.cannot(&nginx, false), None);
        assert_eq!(
            Scenario::Delay.cannot(&nginx, false).as_deref(),
            Some("static files only")
        );
        assert_eq!(
            Scenario::Echo.cannot(&nginx, false).as_deref(),
            Some("HTTP only")
        );
    }

    /// The stall needs two connections at once, a pool of two has them;
    /// a missing tool says so rather than failing.
    #[test]
    fn the_stall_runs_on_a_pool_of_two_but_not_on_one() {
        assert_eq!(
            Scenario::Stall
                .cannot(&variant("blocking"), false)
                .as_deref(),
            Some("one conn. at a time")
        );
        assert_eq!(
            Scenario::Stall.cannot(&variant("forking --workers 2"), false),
            None
        );
        assert_eq!(Scenario::Idle.cannot(&variant("blocking"), false), None);
        assert_eq!(
            Scenario::Stall.cannot(&nginx_row(), false).as_deref(),
            Some("static files only")
        );
    }

    /// Holds ask what each model can give: a process or a thread per
    /// connection is held to fewer.
    #[test]
    fn hold_counts_follow_the_model() {
        let durations = |hold_connections| Durations {
            run: Duration::from_secs(1),
            hold: Duration::from_secs(1),
            hold_connections,
            ab_requests: 1000,
            quick: false,
        };
        let count = |name: &str, n: usize| Scenario::Hold.hold_count(&variant(name), &durations(n));
        assert_eq!(count("epoll", 19_000), 19_000);
        assert_eq!(count("threaded", 19_000), 10_000);
        assert_eq!(count("forking", 19_000), 1_000);
        assert_eq!(count("uring", 300), 300);
        assert_eq!(count("forking", 300), 300);
        assert_eq!(
            Scenario::Hold.hold_count(&nginx_row(), &durations(19_000)),
            10_000
        );
    }

    /// Every heading says its unit and which way is better.
    #[test]
    fn headings_mark_the_better_direction() {
        assert_eq!(Scenario::KeepAlive.heading(), "keep-alive c100 (req/s ↑)");
        assert_eq!(Scenario::Hold.heading(), "hold (B per conn. ↓)");
        for scenario in Scenario::ALL {
            let heading = scenario.heading();
            assert!(
                heading.ends_with("↑)") || heading.ends_with("↓)"),
                "{heading}"
            );
        }
    }
}
