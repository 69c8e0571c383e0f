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

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::clients;
use crate::echo::{self, EchoConfig};
use crate::hold::{self, HoldConfig};
use crate::load::{self, LoadConfig, Shared, Stop};
use crate::target::Target;

/// What a model cannot do, once: the cells it cannot fill say this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// Serves this many connections at a time, the rest waiting in the
    /// backlog: 1 for the iterative server, N for a pool of N.
    pub at_a_time: Option<usize>,
    /// Refuses fds at or above FD_SETSIZE (1024): `select`.
    pub fd_setsize: bool,
    /// A process per connection: a hold of thousands is thousands of processes.
    pub process_per_connection: bool,
    /// A thread per connection (or a pool's queue): 10,000 at most here.
    pub thread_per_connection: bool,
    /// nginx, the reference: static files over HTTP, no routes, no echo.
    pub static_only: bool,
}

/// One server to measure: a binary and its model flags.
#[derive(Debug, Clone, Serialize)]
pub struct Variant {
    /// The binary and its flags, as the table shows it.
    pub name: String,
    /// The binary's name in `target/release`.
    pub binary: String,
    /// Its model flags.
    pub args: Vec<String>,
    /// What it cannot do.
    #[serde(skip)]
    pub limits: Limits,
}

/// The model flag variants worth comparing, and each model's limits. The
/// first variant of every binary is its default (no flags).
pub fn variants(binary: &str) -> Vec<Variant> {
    let limits = match binary {
        "blocking" => Limits {
            at_a_time: Some(1),
            ..Limits::default()
        },
        "select" => Limits {
            fd_setsize: true,
            ..Limits::default()
        },
        "forking" => Limits {
            process_per_connection: true,
            ..Limits::default()
        },
        "threaded" => Limits {
            thread_per_connection: true,
            ..Limits::default()
        },
        _ => Limits::default(),
    };
    let flags: &[&[&str]] = match binary {
        "forking" => &[&[], &["--workers", "2"]],
        "threaded" => &[&[], &["--pool", "8"]],
        "epoll" => &[&[], &["--trigger", "edge"], &["--workers", "2"]],
        "coroutine" => &[&[], &["--workers", "2"]],
        "signal_driven" => &[&[], &["--sigpending", "1"]],
        "uring" => &[&[], &["--shots", "single"]],
        _ => &[&[]],
    };
    flags
        .iter()
        .map(|args| {
            let mut limits = limits;
            // A preforked pool or a thread pool serves as many at once as it
            // has workers; the rest wait in the backlog.
            if let ["--pool" | "--workers", n] = args
                && matches!(binary, "threaded" | "forking")
            {
                limits.at_a_time = n.parse().ok();
            }
            Variant {
                name: std::iter::once(binary)
                    .chain(args.iter().copied())
                    .collect::<Vec<_>>()
                    .join(" "),
                binary: binary.to_string(),
                args: args.iter().map(|a| a.to_string()).collect(),
                limits,
            }
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
        limits: Limits {
            static_only: true,
            ..Limits::default()
        },
    }
}

/// The scenarios, in the table's column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// `/numbers.txt` over 100 keep-alive connections.
    KeepAlive,
    /// `/numbers.txt` at concurrency 100, a new connection per request (ab).
    Close,
    /// `/bytes/65536` over 100 keep-alive connections.
    Big,
    /// `/delay/100` over 1,000 connections: waiting costs nothing?
    Delay,
    /// 128-byte echo messages over 100 connections.
    Echo,
    /// 10,000 (19,000 where the model can) idle keep-alive connections:
    /// experiment 5.
    Hold,
    /// `ab -n 10000 -c 100` on `/numbers.txt`: experiment 1, with the
    /// sources' own tool.
    Ab,
    /// Ten `GET /delay/500` at once, the time until the last answer:
    /// experiment 3.
    Sleep,
    /// 100 threads each send `hello N` and wait for its echo: experiment 4.
    Hello,
}

impl Scenario {
    /// Every scenario, in column order.
    pub const ALL: [Scenario; 9] = [
        Scenario::KeepAlive,
        Scenario::Close,
        Scenario::Big,
        Scenario::Delay,
        Scenario::Echo,
        Scenario::Hold,
        Scenario::Ab,
        Scenario::Sleep,
        Scenario::Hello,
    ];

    /// The name `--scenario` takes and the JSON uses.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::KeepAlive => "keepalive",
            Scenario::Close => "close",
            Scenario::Big => "64k",
            Scenario::Delay => "delay",
            Scenario::Echo => "echo",
            Scenario::Hold => "hold",
            Scenario::Ab => "ab",
            Scenario::Sleep => "sleep",
            Scenario::Hello => "hello",
        }
    }

    /// The column heading: what was measured, and its unit.
    pub fn heading(self) -> &'static str {
        match self {
            Scenario::KeepAlive => "keep-alive c100 (req/s)",
            Scenario::Close => "new conn. c100 (req/s)",
            Scenario::Big => "64 KiB c100 (MB/s)",
            Scenario::Delay => "/delay/100 c1000 (req/s)",
            Scenario::Echo => "echo 128 B c100 (msg/s)",
            Scenario::Hold => "hold (B per conn.)",
            Scenario::Ab => "ab -c100 (req/s)",
            Scenario::Sleep => "10 × /delay/500 (s)",
            Scenario::Hello => "100 hello threads (ms)",
        }
    }

    /// What the scenario does, in a sentence: the chart's title.
    pub fn title(self) -> &'static str {
        match self {
            Scenario::KeepAlive => "GET /numbers.txt over 100 keep-alive connections",
            Scenario::Close => "GET /numbers.txt at concurrency 100, a new connection per request",
            Scenario::Big => "GET /bytes/65536 over 100 keep-alive connections",
            Scenario::Delay => "GET /delay/100 over 1,000 connections (ideal: 10,000 req/s)",
            Scenario::Echo => "echo: 128-byte messages over 100 connections",
            Scenario::Hold => "server memory per idle keep-alive connection",
            Scenario::Ab => "ab -n 10000 -c 100 /numbers.txt, a new connection per request",
            Scenario::Sleep => "ten GET /delay/500 at once: seconds until the last answer",
            Scenario::Hello => "echo: 100 threads send `hello N` at once, ms until all are back",
        }
    }

    /// Why `variant` cannot run this scenario, if it cannot.
    pub fn cannot(self, variant: &Variant, quick: bool) -> Option<String> {
        let limits = variant.limits;
        if limits.static_only {
            return match self {
                Scenario::Big | Scenario::Delay | Scenario::Sleep => {
                    Some("static files only".to_string())
                }
                Scenario::Echo | Scenario::Hello => Some("HTTP only".to_string()),
                _ => None,
            };
        }
        match (self, limits.at_a_time) {
            // Clients that come and go, or few: a server with N at a time
            // serves them in turns, which is what these scenarios show.
            (Scenario::Close | Scenario::Ab | Scenario::Sleep | Scenario::Hello, _) => None,
            // With 100 or 1,000 clients that keep their connections, the
            // ones past the first few wait for ever in the backlog.
            (_, Some(1)) => Some("one conn. at a time".to_string()),
            (_, Some(n)) => Some(format!("{n} conn. at a time")),
            // Clients past fd 1023 are refused, by design.
            (Scenario::Hold, None) if limits.fd_setsize && !quick => {
                Some("fds >= 1024 refused".to_string())
            }
            _ => None,
        }
    }

    /// How many connections a hold asks of `variant`.
    fn hold_count(self, variant: &Variant, quick: bool) -> usize {
        let limits = variant.limits;
        let full = if limits.process_per_connection {
            1_000
        } else if limits.thread_per_connection || limits.static_only {
            // nginx reset 256 of 19,000 connections opened at 5,000 a
            // second in one full run (why is not known yet); it holds 10,000.
            10_000
        } else {
            19_000
        };
        if quick { full.min(300) } else { full }
    }
}

/// One cell of the table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Cell {
    /// It ran and passed: the figure, and a remark (how many were held).
    Ran {
        /// The figure, in the scenario's unit.
        value: f64,
        /// What else to know about it, if anything.
        note: Option<String>,
        /// Further figures of the same run, by name (ab's mean time per
        /// request, the bench's own memory in a hold): the book's
        /// experiments chapter shows them.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        extra: BTreeMap<String, f64>,
    },
    /// The model cannot run this scenario, and why.
    Cannot {
        /// Why.
        why: String,
    },
    /// It should have passed and did not.
    Failed {
        /// What went wrong.
        why: String,
    },
}

impl Cell {
    /// The cell as the table and the charts print it: the one rule for
    /// what a cell says, table or chart.
    pub fn show(&self) -> String {
        let number = crate::chart::figure;
        match self {
            Cell::Ran {
                value, note: None, ..
            } => number(*value),
            Cell::Ran {
                value,
                note: Some(note),
                ..
            } => format!("{} ({note})", number(*value)),
            Cell::Cannot { why } => format!("n/a: {why}"),
            Cell::Failed { why } => format!("FAILED: {why}"),
        }
    }

    /// The figure, if the scenario ran.
    pub fn value(&self) -> Option<f64> {
        match self {
            Cell::Ran { value, .. } => Some(*value),
            _ => None,
        }
    }
}

/// How long each measurement lasts.
#[derive(Debug, Clone, Copy)]
pub struct Durations {
    /// Each load or echo run.
    pub run: Duration,
    /// How long a hold lasts once every connection is open.
    pub hold: Duration,
    /// Whether this is `--quick` (smaller holds, FD_SETSIZE models included).
    pub quick: bool,
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
        let mut child = Command::new(binary)
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
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
        let mut server = Server {
            pid: child.id(),
            child: Some(child),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        match addr {
            Some(addr) => {
                server.addr = addr;
                pin(server.pid(), 0);
                Ok(server)
            }
            None => Err(io::Error::other(format!(
                "no `listening on` line (got {line:?})"
            ))),
        }
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
        for process in std::iter::once(pid).chain(crate::procfs::children(pid)) {
            pin(process, 0);
        }
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
        let _ = kill(pid, Signal::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(4) {
            let gone = match &mut self.child {
                Some(child) => matches!(child.try_wait(), Ok(Some(_))),
                None => kill(pid, None).is_err(), // not our child: gone when unsignalable
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

/// Pins process `pid` (0: this one) to `cpu`: the server on CPU 0, the
/// bench on CPU 1, so neither steals from the other and the ratios between
/// servers hold. Best effort: on a machine with one CPU the call fails and
/// nothing is pinned. (A server inherits the bench's CPU when it starts,
/// and is moved to its own as soon as it listens.)
pub fn pin(pid: u32, cpu: usize) {
    let mut set = nix::sched::CpuSet::new();
    if set.set(cpu).is_ok() {
        let _ = nix::sched::sched_setaffinity(Pid::from_raw(pid as i32), &set);
    }
}

/// Runs one scenario against `variant` (its binary in the workspace's
/// release directory; nginx through its script) and returns the cell.
pub fn measure(
    variant: &Variant,
    scenario: Scenario,
    workspace: &Workspace,
    durations: Durations,
) -> Cell {
    if let Some(why) = scenario.cannot(variant, durations.quick) {
        return Cell::Cannot { why };
    }
    let mut args = variant.args.clone();
    match scenario {
        Scenario::Echo | Scenario::Hello => {
            args.extend(["--proto".to_string(), "echo".to_string()])
        }
        Scenario::Hold => args.extend(["--max-conns".to_string(), "20000".to_string()]),
        _ => {}
    }
    let started = match variant.limits.static_only {
        true => Server::nginx(&workspace.root),
        false => Server::start(&workspace.bin_dir.join(&variant.binary), &args),
    };
    let server = match started {
        Ok(server) => server,
        Err(err) => {
            return Cell::Failed {
                why: format!("start: {err}"),
            };
        }
    };
    match run(scenario, &server, variant, durations) {
        Ok(cell) => cell,
        Err(err) => Cell::Failed {
            why: err.to_string(),
        },
    }
}

/// The measurement itself, against a running server.
fn run(scenario: Scenario, server: &Server, variant: &Variant, d: Durations) -> io::Result<Cell> {
    let url = |path: &str| {
        Target::parse_url(&format!("http://{}{path}", server.addr)).map_err(io::Error::other)
    };
    let load = |path: &str, connections: usize, keepalive: bool| -> io::Result<Cell> {
        let config = LoadConfig {
            target: url(path)?,
            connections,
            threads: 1,
            stop: Stop::After(d.run),
            keepalive,
            pipeline: 1,
            rate: None,
            timeout: Duration::from_secs(2),
            head: false,
        };
        let report = load::run(&config, &Shared::default())?;
        let errors = report.errors.total();
        Ok(match (errors, report.requests) {
            (0, n) if n > 0 => Cell::Ran {
                value: if path.starts_with("/bytes") {
                    report.mb_per_s
                } else {
                    report.requests_per_s
                },
                note: None,
                extra: BTreeMap::new(),
            },
            _ => Cell::Failed {
                why: format!(
                    "{} answered, {errors} errors ({:?})",
                    report.requests, report.errors
                ),
            },
        })
    };
    match scenario {
        Scenario::KeepAlive => load("/numbers.txt", 100, true),
        Scenario::Close => load("/numbers.txt", 100, false),
        Scenario::Big => load("/bytes/65536", 100, true),
        Scenario::Delay => load("/delay/100", 1000, true),
        Scenario::Echo => {
            let config = EchoConfig {
                addr: server.addr,
                connections: 100,
                size: 128,
                duration: d.run,
                timeout: Duration::from_secs(2),
            };
            let report = echo::run(&config)?;
            let errors = report.errors.total() + report.mismatches;
            Ok(match (errors, report.messages) {
                (0, n) if n > 0 => Cell::Ran {
                    value: report.messages_per_s,
                    note: None,
                    extra: BTreeMap::new(),
                },
                _ => Cell::Failed {
                    why: format!(
                        "{} messages, {errors} errors or mismatches",
                        report.messages
                    ),
                },
            })
        }
        Scenario::Ab => {
            if !clients::ab_installed() {
                return Ok(Cell::Cannot {
                    why: "ab not installed".to_string(),
                });
            }
            let requests = if d.quick { 1_000 } else { 10_000 };
            let url = format!("http://{}/numbers.txt", server.addr);
            let report = clients::ab(&url, requests, 100)?;
            Ok(match report.failed {
                0 => Cell::Ran {
                    value: report.requests_per_s,
                    note: None,
                    extra: BTreeMap::from([("mean_ms".to_string(), report.mean_ms)]),
                },
                failed => Cell::Failed {
                    why: format!("ab: {failed} of {requests} requests failed"),
                },
            })
        }
        Scenario::Sleep => {
            let took = clients::sleepers(server.addr, 10, 500, Duration::from_secs(10))?;
            Ok(Cell::Ran {
                value: took.as_secs_f64(),
                note: None,
                extra: BTreeMap::new(),
            })
        }
        Scenario::Hello => {
            let took = clients::hello_threads(server.addr, 100, Duration::from_secs(10))?;
            Ok(Cell::Ran {
                value: took.as_secs_f64() * 1000.0,
                note: None,
                extra: BTreeMap::new(),
            })
        }
        Scenario::Hold => {
            let n = scenario.hold_count(variant, d.quick);
            let config = HoldConfig {
                target: url("/numbers.txt")?,
                connections: n,
                ramp_count: 50,
                ramp_every: Duration::from_millis(10),
                keepalive: Duration::from_secs(60),
                duration: d.hold,
                pid: Some(server.pid()),
                timeout: Duration::from_secs(5),
            };
            let report = hold::run(&config, |_| {})?;
            let trouble = report.refused + report.reset + report.timed_out + report.bad_answers;
            Ok(
                match (
                    report.held_at_end == n,
                    trouble,
                    report.server_bytes_per_connection,
                ) {
                    (true, 0, Some(bytes)) => Cell::Ran {
                        value: bytes,
                        note: Some(format!("{n} held")),
                        extra: hold_extra(&report),
                    },
                    _ => Cell::Failed {
                        why: format!(
                            "held {} of {n} at the end; refused {}, reset {}, timed out {}, bad {}",
                            report.held_at_end,
                            report.refused,
                            report.reset,
                            report.timed_out,
                            report.bad_answers
                        ),
                    },
                },
            )
        }
    }
}

/// The figures of a hold the experiments chapter sets beside the sources'
/// Python client: the bench's own memory and CPU, and the HEADs answered.
fn hold_extra(report: &hold::HoldReport) -> BTreeMap<String, f64> {
    let seconds = report.samples.last().map_or(0.0, |s| s.t_s);
    let mut extra = BTreeMap::new();
    if let Some(rss) = report.bench_rss_full {
        extra.insert("bench_rss_mb".to_string(), rss as f64 / 1e6);
    }
    if let Some(cpu) = report.bench_cpu_percent {
        extra.insert("bench_cpu_percent".to_string(), cpu);
    }
    if let Some(rss) = report.server_rss_full {
        extra.insert("server_rss_mb".to_string(), rss as f64 / 1e6);
    }
    if seconds > 0.0 {
        extra.insert("heads_per_s".to_string(), report.requests as f64 / seconds);
    }
    extra
}

/// What `cargo metadata` says of the workspace.
pub struct Workspace {
    /// Every binary target but `bench`'s.
    pub binaries: Vec<String>,
    /// Where their release builds land.
    pub bin_dir: PathBuf,
    /// The repository (for `bench/nginx/nginx.sh`).
    pub root: PathBuf,
}

/// Every binary target of the workspace but `bench`, with the directory
/// its release build lands in: from `cargo metadata`.
pub fn workspace() -> io::Result<Workspace> {
    let output = Command::new(cargo())
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
        root: PathBuf::from(root),
    })
}

/// Builds every server binary in release mode; cargo skips what is fresh.
pub fn build() -> io::Result<()> {
    let status = Command::new(cargo())
        .args([
            "build",
            "--release",
            "--workspace",
            "--exclude",
            "bench",
            "--bins",
        ])
        .status()?;
    match status.success() {
        true => Ok(()),
        false => Err(io::Error::other("cargo build failed")),
    }
}

/// The cargo that runs us (`CARGO` under `cargo run`), or `cargo`.
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
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

    /// Holds ask what each model can give: a process or a thread per
    /// connection is held to fewer, and `--quick` to 300.
    #[test]
    fn hold_counts_follow_the_model() {
        let count = |name: &str, quick: bool| Scenario::Hold.hold_count(&variant(name), quick);
        assert_eq!(count("epoll", false), 19_000);
        assert_eq!(count("threaded", false), 10_000);
        assert_eq!(count("forking", false), 1_000);
        assert_eq!(count("uring", true), 300);
        let nginx = nginx_row();
        assert_eq!(Scenario::Hold.hold_count(&nginx, false), 10_000);
    }

    /// Every kind of cell prints something: never a blank.
    #[test]
    fn no_cell_is_blank() {
        let cells = [
            Cell::Ran {
                value: 1234.4,
                note: None,
                extra: BTreeMap::new(),
            },
            Cell::Ran {
                value: 348.0,
                note: Some("19000 held".into()),
                extra: BTreeMap::from([("bench_rss_mb".to_string(), 9.5)]),
            },
            Cell::Cannot {
                why: "one conn. at a time".into(),
            },
            Cell::Failed {
                why: "2 errors".into(),
            },
        ];
        let shown: Vec<String> = cells.iter().map(Cell::show).collect();
        assert_eq!(
            shown,
            [
                "1,234",
                "348 (19000 held)",
                "n/a: one conn. at a time",
                "FAILED: 2 errors"
            ]
        );
    }
}
