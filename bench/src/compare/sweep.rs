//! The sweeps of `bench compare --sweeps`: how a model's cost grows with
//! the connections it watches. One server per model and round, taken up a
//! ladder of points, the same measurement at each step:
//!
//! - **Idle**: 10 keep-alive clients fetch `/numbers.txt` while N other
//!   connections sit idle (each asked one HEAD first, so the server has
//!   accepted and answered it, then nothing). N climbs 0, 1,000, 5,000,
//!   10,000, 19,000 on the same server: the idle ones stay open from one
//!   step to the next. The server's memory at each step, before the busy
//!   clients start, is the memory curve: its slope is the bytes per
//!   connection, its intercept what the model costs empty.
//! - **Concurrency**: keep-alive `/numbers.txt` at c = 1, 10, 100, 1,000,
//!   10,000 connections; the memory is read while the load runs.
//!
//! At every step: the rate, p99 latency, and what a request cost the server
//! (CPU µs, system calls, context switches), counted by the kernel as in the
//! scenarios ([`loadgen::cost`]). A model that cannot reach a step says why in
//! the cell (`select` past FD_SETSIZE, a pool's size), and the steps above
//! a failed one say so too.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

use serde::Serialize;

use super::cell::{Cell, Round};
use super::{PROCESS_CAP, Server, THREAD_CAP, Variant};
use loadgen::load::{self, LoadConfig, Shared, Stop};
use loadgen::procfs;
use loadgen::target::Target;

/// The two sweeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sweep {
    /// A fixed busy load beside N idle connections.
    Idle,
    /// Keep-alive load at concurrency c.
    Concurrency,
}

/// Busy keep-alive clients in the idle sweep.
pub const BUSY: usize = 10;

/// Server flags for a sweep: room for 19,000 connections, and no idle
/// timeout inside a run (the default, 60 s, could end a long ladder).
pub const SERVER_ARGS: [&str; 4] = ["--max-conns", "20000", "--idle-timeout", "600"];

/// The highest fd `select` can watch is FD_SETSIZE - 1 = 1023; the
/// listener, the standard streams and a spare fd take a few below it.
const FD_SETSIZE_ROOM: usize = 1_015;

impl Sweep {
    /// Both, in the report's order.
    pub const ALL: [Sweep; 2] = [Sweep::Idle, Sweep::Concurrency];

    /// The name the JSON and the chart files use.
    pub fn name(self) -> &'static str {
        match self {
            Sweep::Idle => "idle-sweep",
            Sweep::Concurrency => "concurrency-sweep",
        }
    }

    /// What the x axis counts.
    pub fn axis(self) -> &'static str {
        match self {
            Sweep::Idle => "idle connections beside 10 busy ones",
            Sweep::Concurrency => "keep-alive connections (c)",
        }
    }

    /// The ladder: the full one, or `--quick`'s two steps.
    pub fn points(self, quick: bool) -> Vec<usize> {
        match (self, quick) {
            (Sweep::Idle, false) => vec![0, 1_000, 5_000, 10_000, 19_000],
            (Sweep::Idle, true) => vec![0, 200],
            (Sweep::Concurrency, false) => vec![1, 10, 100, 1_000, 10_000],
            (Sweep::Concurrency, true) => vec![1, 50],
        }
    }

    /// How many connections the server holds at step `n`.
    fn connections(self, n: usize) -> usize {
        match self {
            Sweep::Idle => n + BUSY,
            Sweep::Concurrency => n,
        }
    }

    /// Why `variant` cannot reach step `n`, if it cannot.
    pub fn cannot(self, variant: &Variant, n: usize) -> Option<String> {
        let limits = variant.limits;
        let held = self.connections(n);
        if let Some(at_a_time) = limits.at_a_time
            && held > at_a_time
        {
            return Some(super::why_at_a_time(at_a_time));
        }
        if limits.fd_limit.is_some() && held > FD_SETSIZE_ROOM {
            return Some("fds >= 1024 refused".to_string());
        }
        if limits.process_per_connection && held > PROCESS_CAP + BUSY {
            return Some("a process per conn.: 1,000 at most here".to_string());
        }
        if (limits.thread_per_connection || variant.static_only) && held > THREAD_CAP + BUSY {
            return Some(match variant.static_only {
                true => "10,000 at most here".to_string(),
                false => "a thread per conn.: 10,000 at most here".to_string(),
            });
        }
        None
    }

    /// One round of the ladder on a freshly started `server`: a cell per
    /// step of `points`, filled in place (`cells[i]` is step `i`; a cell
    /// already `Cannot` or `Failed` is skipped, and a failure marks the
    /// steps above it).
    pub fn climb(
        self,
        server: &Server,
        points: &[usize],
        run: Duration,
        round: usize,
        cells: &mut [Cell],
    ) {
        let mut idle: Vec<TcpStream> = Vec::new();
        let mut failed: Option<usize> = None;
        for (&n, cell) in points.iter().zip(cells.iter_mut()) {
            let Cell::Ran { rounds } = cell else {
                continue;
            };
            if let Some(below) = failed {
                *cell = Cell::Failed {
                    why: format!("round {round}: failed at {below}"),
                };
                continue;
            }
            let measured = match self {
                Sweep::Idle => idle_step(server, n, &mut idle, run),
                Sweep::Concurrency => concurrency_step(server, n, run),
            };
            match measured {
                Ok(measured) => rounds.push(measured),
                Err(why) => {
                    eprintln!("    FAILED at {n}: {why}");
                    failed = Some(n);
                    *cell = Cell::Failed {
                        why: format!("round {round}: {why}"),
                    };
                }
            }
        }
    }
}

/// The keep-alive load of a step: `connections` clients on `/numbers.txt`
/// for `run`, counting the server's costs.
fn load_config(server: &Server, connections: usize, run: Duration) -> io::Result<LoadConfig> {
    let url = format!("http://{}/numbers.txt", server.addr);
    Ok(LoadConfig {
        target: Target::parse_url(&url).map_err(io::Error::other)?,
        connections,
        threads: 1,
        stop: Stop::After(run),
        keepalive: true,
        pipeline: 1,
        rate: None,
        // A poll server watching 19,000 idle fds answers in milliseconds,
        // not microseconds: slow, which is the figure, not a failure.
        timeout: Duration::from_secs(5),
        head: false,
        pid: Some(server.pid()),
    })
}

/// The server's memory: resident set of the process and its children.
fn memory(server: &Server) -> Option<f64> {
    procfs::usage(server.pid()).map(|u| u.rss as f64)
}

/// A load run as a sweep's round: the rate, with p99 latency and memory
/// beside it, and what a request cost the server.
fn step_round(report: load::LoadReport, memory: Option<f64>, note: String) -> io::Result<Round> {
    let errors = report.errors.total();
    if errors > 0 || report.requests == 0 {
        return Err(io::Error::other(format!(
            "{} answered, {errors} errors ({:?})",
            report.requests, report.errors
        )));
    }
    let mut extra = BTreeMap::new();
    extra.insert("p99_ms".to_string(), report.latency.p99_us as f64 / 1000.0);
    if let Some(bytes) = memory {
        extra.insert("rss_mb".to_string(), bytes / 1e6);
    }
    Ok(Round {
        value: report.requests_per_s,
        note: Some(note),
        extra,
        server: report.server,
        client: report.client,
    })
}

/// One step of the idle sweep: open idle connections up to `n`, read the
/// server's memory, then run the busy clients beside them.
fn idle_step(
    server: &Server,
    n: usize,
    idle: &mut Vec<TcpStream>,
    run: Duration,
) -> Result<Round, String> {
    open_idle(server.addr, n, idle)
        .map_err(|e| format!("opening idle connection {}: {e}", idle.len() + 1))?;
    // A moment for the server to finish with the last HEADs (a tenth of
    // a step, 100 ms at most).
    thread::sleep((run / 10).min(Duration::from_millis(100)));
    let memory = memory(server);
    let config = load_config(server, BUSY, run).map_err(|e| e.to_string())?;
    let report = load::run(&config, &Shared::default()).map_err(|e| e.to_string())?;
    step_round(report, memory, format!("{n} idle")).map_err(|e| e.to_string())
}

/// One step of the concurrency sweep: `c` keep-alive clients, the memory
/// read three quarters of the way through.
fn concurrency_step(server: &Server, c: usize, run: Duration) -> Result<Round, String> {
    let config = load_config(server, c, run).map_err(|e| e.to_string())?;
    let (report, memory) = thread::scope(|scope| {
        let sampled = scope.spawn(|| {
            thread::sleep(run * 3 / 4);
            memory(server)
        });
        let report = load::run(&config, &Shared::default());
        (report, sampled.join().ok().flatten())
    });
    let report = report.map_err(|e| e.to_string())?;
    step_round(report, memory, format!("c{c}")).map_err(|e| e.to_string())
}

/// How many idle connections are opened before their answers are read:
/// enough to keep the server busy, few enough that no backlog overflows.
const BATCH: usize = 250;

/// Opens idle connections until `idle` holds `n`. Each sends one HEAD and
/// reads its answer, so each is known to be accepted and served; then it
/// sends nothing more. Connections come from 127.0.0.1 to 127.0.0.8, so
/// 19,000 of them never run short of local ports (see
/// [`loadgen::net::connect_spread`]).
pub(crate) fn open_idle(addr: SocketAddr, n: usize, idle: &mut Vec<TcpStream>) -> io::Result<()> {
    let head = format!("HEAD /numbers.txt HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    while idle.len() < n {
        let first = idle.len();
        let batch = BATCH.min(n - first);
        for i in first..first + batch {
            let mut stream = connect_from(addr, i)?;
            stream.write_all(head.as_bytes())?;
            idle.push(stream);
        }
        for stream in &mut idle[first..] {
            stream.set_read_timeout(Some(Duration::from_secs(10)))?;
            let mut answer = [0u8; 512];
            let read = stream.read(&mut answer)?;
            if !answer[..read].starts_with(b"HTTP/1.1 200") {
                let line = String::from_utf8_lossy(&answer[..read.min(40)]).into_owned();
                return Err(io::Error::other(format!("answered {line:?}")));
            }
        }
    }
    Ok(())
}

/// A blocking connection to `addr` from the `i`th loopback source address
/// ([`loadgen::net::loopback_source`]).
fn connect_from(addr: SocketAddr, i: usize) -> io::Result<TcpStream> {
    let source = loadgen::net::loopback_source(i);
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.bind(&SocketAddr::from((source, 0)).into())?;
    socket.connect_timeout(&addr.into(), Duration::from_secs(10))?;
    // Closed with a reset rather than a FIN: the side that closes first
    // keeps each connection in TIME_WAIT for a minute, and a sweep closes
    // tens of thousands of them per server; their timers expiring in a
    // burst, on both cores, slowed the next servers' steps by up to 5
    // times in a first run.
    socket.set_linger(Some(Duration::ZERO))?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::variants;

    /// Each limited model says why at the first step it cannot reach.
    #[test]
    fn limits_name_the_step() {
        let select = &variants("select")[0];
        assert_eq!(Sweep::Idle.cannot(select, 1_000), None);
        assert_eq!(
            Sweep::Idle.cannot(select, 5_000).as_deref(),
            Some("fds >= 1024 refused")
        );
        let blocking = &variants("blocking")[0];
        assert_eq!(Sweep::Concurrency.cannot(blocking, 1), None);
        assert!(Sweep::Concurrency.cannot(blocking, 10).is_some());
        assert!(Sweep::Idle.cannot(blocking, 0).is_some(), "10 busy clients");
        let threaded = &variants("threaded")[0];
        assert_eq!(Sweep::Idle.cannot(threaded, 10_000), None);
        assert!(Sweep::Idle.cannot(threaded, 19_000).is_some());
        let forking = &variants("forking")[0];
        assert_eq!(Sweep::Concurrency.cannot(forking, 1_000), None);
        assert!(Sweep::Concurrency.cannot(forking, 10_000).is_some());
        let epoll = &variants("epoll")[0];
        for n in Sweep::Idle.points(false) {
            assert_eq!(Sweep::Idle.cannot(epoll, n), None);
        }
    }
}
