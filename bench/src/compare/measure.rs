//! One round of each scenario against a running server: the figure and
//! what it cost the server, or why the round failed. Each scenario's
//! declaration ([`super::scenario`]) names its function here.

use std::collections::BTreeMap;
use std::io;
use std::thread;
use std::time::Duration;

use loadgen::clients;
use loadgen::cost::{Client, Costs, Meter, Unit};
use loadgen::echo::{self, EchoConfig};
use loadgen::hold::{self, HoldConfig, HoldReport};
use loadgen::load::{self, LoadConfig, LoadReport, Shared, Stop};
use loadgen::target::Target;

use super::cell::Round;
use super::durations::Durations;
use super::{Server, Variant};

/// A round to measure: the server, started for it, which variant it is,
/// and how long things last.
pub struct Run<'a> {
    /// The server, running.
    pub server: &'a Server,
    /// What it is, with its limits.
    pub variant: &'a Variant,
    /// The run's lengths and sizes.
    pub d: &'a Durations,
}

/// `path` on `server`.
fn url(server: &Server, path: &str) -> io::Result<Target> {
    Target::parse_url(&format!("http://{}{path}", server.addr)).map_err(io::Error::other)
}

/// A load of `path` over `connections` on `server` for `time`, counted on
/// the server: one client thread, an answer awaited up to 2 s (a light
/// request may wait behind a burn of 100 ms). `compare`'s scenarios and
/// `bench live`'s slices are built here.
pub fn load_config(
    server: &Server,
    path: &str,
    connections: usize,
    keepalive: bool,
    time: Duration,
) -> io::Result<LoadConfig> {
    Ok(LoadConfig {
        target: url(server, path)?,
        connections,
        threads: 1,
        stop: Stop::After(time),
        keepalive,
        pipeline: 1,
        rate: None,
        timeout: Duration::from_secs(2),
        head: false,
        pid: Some(server.pid()),
    })
}

/// `measured`, a load on `server` lasting `time`, beside a client asking
/// `/cpu/100000` (100 ms of CPU each) again and again on a connection of
/// its own: the burner starts 50 ms before `measured` and ends 100 ms
/// after it, so `measured` never runs without it. The burner's report,
/// then `measured`'s.
pub fn beside_a_burn(
    server: &Server,
    measured: &LoadConfig,
    time: Duration,
) -> (io::Result<LoadReport>, io::Result<LoadReport>) {
    let burner = match load_config(
        server,
        "/cpu/100000",
        1,
        true,
        time + Duration::from_millis(150),
    ) {
        Ok(burner) => LoadConfig {
            pid: None,
            ..burner
        },
        Err(e) => return (Err(e), Err(io::Error::other("no /cpu client"))),
    };
    thread::scope(|scope| {
        let burning = scope.spawn(|| load::run(&burner, &Shared::default()));
        thread::sleep(Duration::from_millis(50));
        let report = load::run(measured, &Shared::default());
        let burned = burning
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the /cpu client panicked")));
        (burned, report)
    })
}

impl Run<'_> {
    /// A load of `path` over `connections`, counted on the server.
    fn config(&self, path: &str, connections: usize, keepalive: bool) -> io::Result<LoadConfig> {
        load_config(self.server, path, connections, keepalive, self.d.run)
    }

    /// A load run's round: its rate (MB/s for `/bytes`), every answer valid.
    fn load(&self, path: &str, connections: usize, keepalive: bool) -> io::Result<Round> {
        let report = load::run(
            &self.config(path, connections, keepalive)?,
            &Shared::default(),
        )?;
        check_load(&report)?;
        let value = match path.starts_with("/bytes") {
            true => report.mb_per_s,
            false => report.requests_per_s,
        };
        Ok(round(value, report.server, report.client))
    }

    /// The server's meter, started now.
    fn meter(&self) -> Meter {
        Meter::start(Some(self.server.pid()))
    }
}

/// `keepalive`: `/numbers.txt` over 100 keep-alive connections.
pub fn keepalive(run: &Run) -> io::Result<Round> {
    run.load("/numbers.txt", 100, true)
}

/// `close`: a new connection per request, 100 at a time.
pub fn close(run: &Run) -> io::Result<Round> {
    run.load("/numbers.txt", 100, false)
}

/// `64k`: `/bytes/65536` over 100 keep-alive connections.
pub fn big(run: &Run) -> io::Result<Round> {
    run.load("/bytes/65536", 100, true)
}

/// `delay`: `/delay/100` over 1,000 connections.
pub fn delay(run: &Run) -> io::Result<Round> {
    run.load("/delay/100", 1000, true)
}

/// `echo`: 128-byte messages over 100 connections, every byte compared.
pub fn echo(run: &Run) -> io::Result<Round> {
    let config = EchoConfig {
        addr: run.server.addr,
        connections: 100,
        size: 128,
        duration: run.d.run,
        timeout: Duration::from_secs(2),
        pid: Some(run.server.pid()),
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

/// Holds `n` keep-alive connections for `duration`, ramping 50 every 10 ms.
fn held(run: &Run, n: usize, duration: Duration) -> io::Result<HoldReport> {
    let config = HoldConfig {
        target: url(run.server, "/numbers.txt")?,
        connections: n,
        ramp_count: 50,
        ramp_every: Duration::from_millis(10),
        keepalive: Duration::from_secs(60),
        duration,
        pid: Some(run.server.pid()),
        timeout: Duration::from_secs(5),
    };
    hold::run(&config, |_| {})
}

/// `hold`: the server's memory per idle keep-alive connection.
pub fn hold(run: &Run) -> io::Result<Round> {
    let n = run.d.hold_count(run.variant);
    hold_round(held(run, n, run.d.hold)?, n)
}

/// `wall`: 1,100 connections, counted as soon as they are open.
pub fn wall(run: &Run) -> io::Result<Round> {
    let report = held(run, 1_100, run.d.hold.min(Duration::from_secs(1)))?;
    wall_round(report, 1_100, run.variant)
}

/// `idle`: the server's share of a core with no client at all.
pub fn idle(run: &Run) -> io::Result<Round> {
    let meter = run.meter();
    // Half a run, half a second at most, is plenty: an idle server either
    // sleeps, or spins from the first microsecond.
    thread::sleep((run.d.run / 2).min(Duration::from_millis(500)));
    let totals = meter.stop();
    let server = totals.per(0, Unit::Request);
    let share = server
        .cpu_share
        .ok_or_else(|| io::Error::other("the server's CPU could not be read".to_string()))?;
    Ok(round(share * 100.0, server, totals.client()))
}

/// `wrk`: `wrk -t1 -c100` on `/numbers.txt`.
pub fn wrk(run: &Run) -> io::Result<Round> {
    let meter = run.meter();
    let seconds = run.d.run.as_secs().max(1);
    let url = format!("http://{}/numbers.txt", run.server.addr);
    let report = clients::wrk(&url, 100, seconds)?;
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

/// `ab`: `ab -n N -c 100` on `/numbers.txt`, its mean time beside.
pub fn ab(run: &Run) -> io::Result<Round> {
    let meter = run.meter();
    let url = format!("http://{}/numbers.txt", run.server.addr);
    let report = clients::ab(&url, run.d.ab_requests, 100)?;
    let totals = meter.stop();
    if report.failed > 0 {
        return Err(io::Error::other(format!(
            "ab: {} of {} requests failed",
            report.failed, run.d.ab_requests
        )));
    }
    let server = totals.per(run.d.ab_requests as u64, Unit::Request);
    let mut round = round(report.requests_per_s, server, totals.client());
    round.extra.insert("mean_ms".to_string(), report.mean_ms);
    Ok(round)
}

/// `sleep`: ten `GET /delay/500` at once, seconds until the last answer.
pub fn sleep(run: &Run) -> io::Result<Round> {
    let meter = run.meter();
    let took = clients::sleepers(run.server.addr, 10, 500, Duration::from_secs(10))?;
    let totals = meter.stop();
    let server = totals.per(10, Unit::Request);
    Ok(round(took.as_secs_f64(), server, totals.client()))
}

/// `hello`: 100 threads send `hello N` at once, ms until all are back.
pub fn hello(run: &Run) -> io::Result<Round> {
    let meter = run.meter();
    let took = clients::hello_threads(run.server.addr, 100, Duration::from_secs(10))?;
    let totals = meter.stop();
    let server = totals.per(100, Unit::Message);
    Ok(round(took.as_secs_f64() * 1000.0, server, totals.client()))
}

/// A round with no note and no further figures.
fn round(value: f64, server: Costs, client: Client) -> Round {
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
pub fn stall(run: &Run) -> io::Result<Round> {
    let measured = run.config("/numbers.txt", 1, true)?;
    let (burned, report) = beside_a_burn(run.server, &measured, run.d.run);
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
fn hold_round(report: HoldReport, n: usize) -> io::Result<Round> {
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
fn wall_round(report: HoldReport, n: usize, variant: &Variant) -> io::Result<Round> {
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
