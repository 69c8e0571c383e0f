//! The scenarios of `bench compare`: what each runs, what its figure is,
//! which way is better, which models cannot run it, and one round of it
//! against a running server.

use std::collections::BTreeMap;
use std::io;
use std::thread;
use std::time::Duration;

use serde::Serialize;

use super::cell::Round;
use super::{Server, Variant};
use crate::clients;
use crate::cost::{Client, Meter, Unit};
use crate::echo::{self, EchoConfig};
use crate::hold::{self, HoldConfig};
use crate::load::{self, LoadConfig, LoadReport, Shared, Stop};
use crate::target::Target;

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
    /// Idle keep-alive connections by the thousand: experiment 5.
    Hold,
    /// 1,100 keep-alive connections: past `FD_SETSIZE`, how many are held.
    Wall,
    /// No client at all: does the server use CPU while nothing happens?
    Idle,
    /// One client asks `/cpu/100000` again and again while another fetches
    /// `/numbers.txt`: who is blocked by CPU work?
    Stall,
    /// `wrk -t1 -c100` on `/numbers.txt`: the keep-alive scenario with the
    /// tool the reader knows, to check it is the server, not the bench.
    Wrk,
    /// `ab -n 10000 -c 100` on `/numbers.txt`: experiment 1, with the
    /// sources' own tool.
    Ab,
    /// Ten `GET /delay/500` at once, the time until the last answer:
    /// experiment 3.
    Sleep,
    /// 100 threads each send `hello N` and wait for its echo: experiment 4.
    Hello,
}

/// Which way a scenario's figure is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// More is better: a rate, connections held.
    Higher,
    /// Less is better: memory, time, idle CPU.
    Lower,
}

impl Better {
    /// The mark after a heading: `↑` or `↓`.
    pub fn arrow(self) -> &'static str {
        match self {
            Better::Higher => "↑",
            Better::Lower => "↓",
        }
    }

    /// In words, for a chart.
    pub fn words(self) -> &'static str {
        match self {
            Better::Higher => "higher is better",
            Better::Lower => "lower is better",
        }
    }
}

/// How long each measurement lasts, and how big the holds are.
#[derive(Debug, Clone, Copy)]
pub struct Durations {
    /// Each load, echo, wrk, idle or stall run.
    pub run: Duration,
    /// How long a hold lasts once every connection is open.
    pub hold: Duration,
    /// Connections a hold asks of a model that can hold many (an event
    /// loop); a thread per connection is asked for at most 10,000, a
    /// process per connection 1,000.
    pub hold_connections: usize,
    /// Requests of the `ab` scenario.
    pub ab_requests: usize,
    /// Whether this is `--quick` (FD_SETSIZE models then hold too: 300 fit).
    pub quick: bool,
}

impl Scenario {
    /// Every scenario, in column order.
    pub const ALL: [Scenario; 13] = [
        Scenario::KeepAlive,
        Scenario::Close,
        Scenario::Big,
        Scenario::Delay,
        Scenario::Echo,
        Scenario::Hold,
        Scenario::Wall,
        Scenario::Idle,
        Scenario::Stall,
        Scenario::Wrk,
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
            Scenario::Wall => "wall",
            Scenario::Idle => "idle",
            Scenario::Stall => "stall",
            Scenario::Wrk => "wrk",
            Scenario::Ab => "ab",
            Scenario::Sleep => "sleep",
            Scenario::Hello => "hello",
        }
    }

    /// The column heading: what was measured, its unit, and which way is
    /// better (`↑` higher, `↓` lower).
    pub fn heading(self) -> String {
        let (what, unit) = match self {
            Scenario::KeepAlive => ("keep-alive c100", "req/s"),
            Scenario::Close => ("new conn. c100", "req/s"),
            Scenario::Big => ("64 KiB c100", "MB/s"),
            Scenario::Delay => ("/delay/100 c1000", "req/s"),
            Scenario::Echo => ("echo 128 B c100", "msg/s"),
            Scenario::Hold => ("hold", "B per conn."),
            Scenario::Wall => ("1,100 held", "conns"),
            Scenario::Idle => ("idle", "% of a core"),
            Scenario::Stall => ("beside /cpu", "req/s"),
            Scenario::Wrk => ("wrk c100", "req/s"),
            Scenario::Ab => ("ab -c100", "req/s"),
            Scenario::Sleep => ("10 × /delay/500", "s"),
            Scenario::Hello => ("100 hello threads", "ms"),
        };
        format!("{what} ({unit} {})", self.better().arrow())
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
            Scenario::Wall => "1,100 keep-alive connections at once: how many are held",
            Scenario::Idle => "CPU with no client at all",
            Scenario::Stall => {
                "GET /numbers.txt on one connection while another asks /cpu/100000 again and again"
            }
            Scenario::Wrk => "wrk -t1 -c100 on /numbers.txt, keep-alive",
            Scenario::Ab => "ab -n 10000 -c 100 /numbers.txt, a new connection per request",
            Scenario::Sleep => "ten GET /delay/500 at once: seconds until the last answer",
            Scenario::Hello => "echo: 100 threads send `hello N` at once, ms until all are back",
        }
    }

    /// Which way the figure is better.
    pub fn better(self) -> Better {
        match self {
            Scenario::Hold | Scenario::Idle | Scenario::Sleep | Scenario::Hello => Better::Lower,
            _ => Better::Higher,
        }
    }

    /// Whether the scenario's costs are per unit of steady work (a request
    /// or message answered over and over), so that the CPU, system calls
    /// and switches per unit say what one costs. The others (a hold, an
    /// idle server, a burst of ten or a hundred, the `/cpu` stall) show the
    /// server's share of a core instead.
    pub fn per_unit_costs(self) -> bool {
        matches!(
            self,
            Scenario::KeepAlive
                | Scenario::Close
                | Scenario::Big
                | Scenario::Delay
                | Scenario::Echo
                | Scenario::Wrk
                | Scenario::Ab
        )
    }

    /// Why `variant` cannot run this scenario, if it cannot.
    pub fn cannot(self, variant: &Variant, quick: bool) -> Option<String> {
        let limits = variant.limits;
        if variant.static_only {
            return match self {
                Scenario::Big | Scenario::Delay | Scenario::Sleep | Scenario::Stall => {
                    Some("static files only".to_string())
                }
                Scenario::Echo | Scenario::Hello => Some("HTTP only".to_string()),
                _ => None,
            };
        }
        if self == Scenario::Wrk && !clients::wrk_installed() {
            return Some("wrk not installed".to_string());
        }
        if self == Scenario::Ab && !clients::ab_installed() {
            return Some("ab not installed".to_string());
        }
        match (self, limits.at_a_time) {
            // Clients that come and go, or few: a server with N at a time
            // serves them in turns, which is what these scenarios show.
            (Scenario::Close | Scenario::Ab | Scenario::Sleep | Scenario::Hello, _) => None,
            (Scenario::Idle, _) => None,
            // Two clients: a pool of two or more serves both.
            (Scenario::Stall, Some(n)) if n >= 2 => None,
            // With 100 or 1,000 clients that keep their connections, the
            // ones past the first few wait for ever in the backlog.
            (_, Some(n)) => Some(super::why_at_a_time(n)),
            // Clients past fd 1023 are refused, by design.
            (Scenario::Hold, None) if limits.fd_limit.is_some() && !quick => {
                Some("fds >= 1024 refused".to_string())
            }
            _ => None,
        }
    }

    /// How many connections a hold asks of `variant`.
    pub fn hold_count(self, variant: &Variant, d: &Durations) -> usize {
        let limits = variant.limits;
        let cap = if limits.process_per_connection {
            super::PROCESS_CAP
        } else if limits.thread_per_connection || variant.static_only {
            super::THREAD_CAP
        } else {
            usize::MAX
        };
        d.hold_connections.min(cap)
    }

    /// Extra flags the server needs for this scenario.
    pub fn server_args(self) -> &'static [&'static str] {
        match self {
            Scenario::Echo | Scenario::Hello => &["--proto", "echo"],
            Scenario::Hold | Scenario::Wall => &["--max-conns", "20000"],
            _ => &[],
        }
    }

    /// One round of the scenario against `server`: the figure and what it
    /// cost, or why the round failed.
    pub fn measure(self, server: &Server, variant: &Variant, d: &Durations) -> io::Result<Round> {
        let pid = Some(server.pid());
        let url = |path: &str| {
            Target::parse_url(&format!("http://{}{path}", server.addr)).map_err(io::Error::other)
        };
        let config = |path: &str, connections: usize, keepalive: bool| -> io::Result<LoadConfig> {
            Ok(LoadConfig {
                target: url(path)?,
                connections,
                threads: 1,
                stop: Stop::After(d.run),
                keepalive,
                pipeline: 1,
                rate: None,
                timeout: Duration::from_secs(2),
                head: false,
                pid,
            })
        };
        let load = |path: &str, connections: usize, keepalive: bool| -> io::Result<Round> {
            let report = load::run(&config(path, connections, keepalive)?, &Shared::default())?;
            check_load(&report)?;
            let value = match path.starts_with("/bytes") {
                true => report.mb_per_s,
                false => report.requests_per_s,
            };
            Ok(round(value, report.server, report.client))
        };
        match self {
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
                    pid,
                };
                let report = echo::run(&config)?;
                let errors = report.errors.total() + report.mismatches;
                if errors > 0 || report.messages == 0 {
                    return Err(io::Error::other(format!(
                        "{} messages, {errors} errors or mismatches",
                        report.messages
                    )));
                }
                Ok(round(report.messages_per_s, report.server, report.client))
            }
            Scenario::Hold | Scenario::Wall => {
                let n = match self {
                    Scenario::Wall => 1_100,
                    _ => self.hold_count(variant, d),
                };
                let config = HoldConfig {
                    target: url("/numbers.txt")?,
                    connections: n,
                    ramp_count: 50,
                    ramp_every: Duration::from_millis(10),
                    keepalive: Duration::from_secs(60),
                    // 1,100 connections are counted as soon as they are open.
                    duration: match self {
                        Scenario::Wall => d.hold.min(Duration::from_secs(1)),
                        _ => d.hold,
                    },
                    pid,
                    timeout: Duration::from_secs(5),
                };
                let report = hold::run(&config, |_| {})?;
                match self {
                    Scenario::Wall => wall_round(report, n, variant),
                    _ => hold_round(report, n),
                }
            }
            Scenario::Idle => {
                let meter = Meter::start(pid);
                // Half a run, half a second at most, is plenty: an idle
                // server either sleeps, or spins from the first microsecond.
                thread::sleep((d.run / 2).min(Duration::from_millis(500)));
                let totals = meter.stop();
                let server = totals.per(0, Unit::Request);
                let share = server.cpu_share.ok_or_else(|| {
                    io::Error::other("the server's CPU could not be read".to_string())
                })?;
                Ok(round(share * 100.0, server, totals.client()))
            }
            Scenario::Stall => stall(&config, d),
            Scenario::Wrk => {
                let meter = Meter::start(pid);
                let seconds = d.run.as_secs().max(1);
                let report =
                    clients::wrk(&format!("http://{}/numbers.txt", server.addr), 100, seconds)?;
                let totals = meter.stop();
                if report.errors > 0 || report.requests == 0 {
                    return Err(io::Error::other(format!(
                        "wrk: {} requests, {} errors",
                        report.requests, report.errors
                    )));
                }
                let server = totals.per(report.requests, Unit::Request);
                Ok(round(report.requests_per_s, server, totals.client()))
            }
            Scenario::Ab => {
                let meter = Meter::start(pid);
                let url = format!("http://{}/numbers.txt", server.addr);
                let report = clients::ab(&url, d.ab_requests, 100)?;
                let totals = meter.stop();
                if report.failed > 0 {
                    return Err(io::Error::other(format!(
                        "ab: {} of {} requests failed",
                        report.failed, d.ab_requests
                    )));
                }
                let server = totals.per(d.ab_requests as u64, Unit::Request);
                let mut round = round(report.requests_per_s, server, totals.client());
                round.extra.insert("mean_ms".to_string(), report.mean_ms);
                Ok(round)
            }
            Scenario::Sleep => {
                let meter = Meter::start(pid);
                let took = clients::sleepers(server.addr, 10, 500, Duration::from_secs(10))?;
                let totals = meter.stop();
                Ok(round(
                    took.as_secs_f64(),
                    totals.per(10, Unit::Request),
                    totals.client(),
                ))
            }
            Scenario::Hello => {
                let meter = Meter::start(pid);
                let took = clients::hello_threads(server.addr, 100, Duration::from_secs(10))?;
                let totals = meter.stop();
                let server = totals.per(100, Unit::Message);
                Ok(round(took.as_secs_f64() * 1000.0, server, totals.client()))
            }
        }
    }
}

/// A round with no note and no further figures.
fn round(value: f64, server: crate::cost::Costs, client: Client) -> Round {
    Round {
        value,
        note: None,
        extra: BTreeMap::new(),
        server,
        client,
    }
}

/// A load run passes when it answered something and nothing failed.
fn check_load(report: &LoadReport) -> io::Result<()> {
    let errors = report.errors.total();
    match (errors, report.requests) {
        (0, n) if n > 0 => Ok(()),
        _ => Err(io::Error::other(format!(
            "{} answered, {errors} errors ({:?})",
            report.requests, report.errors
        ))),
    }
}

/// The `/cpu` stall: one client asks `/cpu/100000` (100 ms of CPU each)
/// again and again on one connection, and from 50 ms later another fetches
/// `/numbers.txt` on one connection. The figure is the second client's
/// rate; its latency goes into the further figures. A model that runs the
/// handler on the loop's one thread makes the second client wait behind
/// every burn; one with a thread (or a worker) to spare does not.
fn stall(
    config: &dyn Fn(&str, usize, bool) -> io::Result<LoadConfig>,
    d: &Durations,
) -> io::Result<Round> {
    let mut burner = config("/cpu/100000", 1, true)?;
    // The burner outlasts the measured client, so it is never alone.
    burner.stop = Stop::After(d.run + Duration::from_millis(150));
    burner.pid = None;
    let measured = config("/numbers.txt", 1, true)?;
    let (burned, report) = thread::scope(|scope| {
        let burning = scope.spawn(|| load::run(&burner, &Shared::default()));
        thread::sleep(Duration::from_millis(50));
        let report = load::run(&measured, &Shared::default());
        let burned = burning
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the /cpu client panicked")));
        (burned, report)
    });
    let (burned, report) = (burned?, report?);
    check_load(&report)?;
    if burned.requests == 0 {
        return Err(io::Error::other("no /cpu request was answered"));
    }
    let mut round = round(report.requests_per_s, report.server, report.client);
    round
        .extra
        .insert("p50_ms".to_string(), report.latency.p50_us as f64 / 1000.0);
    round
        .extra
        .insert("p99_ms".to_string(), report.latency.p99_us as f64 / 1000.0);
    Ok(round)
}

/// A hold's round: the server's memory per held connection, with the
/// bench's own figures beside it. Every connection must be held.
fn hold_round(report: hold::HoldReport, n: usize) -> io::Result<Round> {
    let trouble = report.refused + report.reset + report.timed_out + report.bad_answers;
    let (true, 0, Some(bytes)) = (
        report.held_at_end == n,
        trouble,
        report.server_bytes_per_connection,
    ) else {
        return Err(io::Error::other(format!(
            "held {} of {n} at the end; refused {}, reset {}, timed out {}, bad {}",
            report.held_at_end, report.refused, report.reset, report.timed_out, report.bad_answers
        )));
    };
    let mut extra = BTreeMap::new();
    let seconds = report.samples.last().map_or(0.0, |s| s.t_s);
    let mut put = |key: &str, value: Option<f64>| {
        if let Some(value) = value {
            extra.insert(key.to_string(), value);
        }
    };
    put(
        "bench_rss_mb",
        report.bench_rss_full.map(|b| b as f64 / 1e6),
    );
    put(
        "server_rss_mb",
        report.server_rss_full.map(|b| b as f64 / 1e6),
    );
    put("kernel_stack_per_conn", report.kernel_stack_per_connection);
    put(
        "heads_per_s",
        (seconds > 0.0).then(|| report.requests as f64 / seconds),
    );
    Ok(Round {
        value: bytes,
        note: Some(format!("{n} held")),
        extra,
        server: report.server,
        client: report.client,
    })
}

/// The 1,100 round: how many connections were held. A model with an fd
/// limit (`select`) is expected to refuse the ones past it cleanly, with a
/// 503; every other model must hold all 1,100.
fn wall_round(report: hold::HoldReport, n: usize, variant: &Variant) -> io::Result<Round> {
    let trouble = report.reset + report.timed_out + report.bad_answers;
    let clean = trouble == 0 && report.held_at_end + report.refused as usize >= n;
    let held_all = report.held_at_end == n;
    if !(clean && (held_all || variant.limits.fd_limit.is_some())) {
        return Err(io::Error::other(format!(
            "held {} of {n}; refused {}, reset {}, timed out {}, bad {}",
            report.held_at_end, report.refused, report.reset, report.timed_out, report.bad_answers
        )));
    }
    Ok(Round {
        value: report.held_at_end as f64,
        note: (report.refused > 0).then(|| format!("{} refused", report.refused)),
        extra: BTreeMap::from([("refused".to_string(), report.refused as f64)]),
        server: report.server,
        client: report.client,
    })
}
