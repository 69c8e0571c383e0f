//! The generator's modes as the `bench` binary runs them: check the
//! flags, run, print the report (a table, or JSON with `--json`), and say
//! how it ended.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::Failure;
use crate::cli::{EchoArgs, HoldArgs, LoadArgs};
use crate::echo::EchoConfig;
use crate::hold::HoldConfig;
use crate::load::{LoadConfig, LoadReport, Shared, Stop};
use crate::stats::megabytes;
use crate::target::Target;

/// `--pid PID` must name a running process (not one gone, nor a zombie):
/// a meter on no process would count nothing and call it a cost.
pub fn check_pid(pid: Option<u32>) -> Result<(), Failure> {
    match pid {
        Some(pid) if crate::procfs::exited(pid) => {
            Err(Failure::Usage(format!("--pid {pid}: no such process")))
        }
        _ => Ok(()),
    }
}

/// One connection to `addr` before a run, as wrk makes: a server that is
/// not there is one line and exit 1, not a run of connect errors.
fn check_reachable(addr: std::net::SocketAddr) -> Result<(), Failure> {
    match std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        Ok(_) => Ok(()),
        Err(err) => Err(Failure::Run(format!("cannot connect to {addr}: {err}"))),
    }
}

/// `bench load`: HTTP requests at a concurrency, every answer checked;
/// exit 1 if none succeeded.
pub fn load(args: LoadArgs) -> Result<(), Failure> {
    let stop = match (args.duration, args.requests) {
        (_, Some(n)) => Stop::Requests(n),
        (Some(d), None) => Stop::After(Duration::from_secs_f64(d)),
        (None, None) => Stop::After(Duration::from_secs(10)),
    };
    if args.connections == 0 || args.pipeline == 0 {
        return Err(Failure::Usage(
            "-c and --pipeline must be at least 1".into(),
        ));
    }
    check_pid(args.pid)?;
    let target = Target::parse_url(&args.url).map_err(Failure::Usage)?;
    check_reachable(target.addr)?;
    plumbing::raise_fd_limit();
    let config = LoadConfig {
        target,
        connections: args.connections,
        threads: args.threads,
        stop,
        keepalive: !args.no_keepalive,
        pipeline: args.pipeline,
        rate: args.rate,
        timeout: Duration::from_secs_f64(args.timeout),
        head: args.head,
        pid: args.pid,
    };
    let shared = Shared::default();
    let report =
        with_progress(&shared, || crate::load::run(&config, &shared)).map_err(|e| e.to_string())?;
    print_report(&load_table(&report), &report, args.json)?;
    match report.requests {
        0 => Err(Failure::Run(format!(
            "no request succeeded ({} failed)",
            report.errors.total()
        ))),
        _ => Ok(()),
    }
}

/// Runs `work` with a progress line on stderr once it has lasted a second
/// (indicatif draws nothing when stderr is not a terminal).
fn with_progress<T>(shared: &Shared, work: impl FnOnce() -> T) -> T {
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            let start = std::time::Instant::now();
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if start.elapsed() >= Duration::from_secs(1) {
                    let finished = shared.finished.load(Ordering::Relaxed);
                    bar.set_message(format!(
                        "{:.0}s  {finished} requests",
                        start.elapsed().as_secs_f64()
                    ));
                    bar.tick();
                }
            }
            bar.finish_and_clear();
        });
        let result = work();
        done.store(true, Ordering::Relaxed);
        result
    })
}

/// Prints `table` and, with `--json`, the report as JSON on stdout (the
/// table then goes to stderr, so stdout stays one JSON document).
fn print_report(table: &str, report: &impl serde::Serialize, json: bool) -> Result<(), String> {
    if json {
        eprint!("{table}");
        println!(
            "{}",
            serde_json::to_string_pretty(report).map_err(|e| e.to_string())?
        );
    } else {
        print!("{table}");
    }
    Ok(())
}

/// `bench echo`: messages over many connections, every byte compared;
/// exit 1 if none came back.
pub fn echo(args: EchoArgs) -> Result<(), Failure> {
    if args.connections == 0 || args.size == 0 {
        return Err(Failure::Usage("-c and --size must be at least 1".into()));
    }
    check_pid(args.pid)?;
    let addr = crate::target::resolve(&args.addr).map_err(Failure::Usage)?;
    check_reachable(addr)?;
    plumbing::raise_fd_limit();
    let config = EchoConfig {
        addr,
        connections: args.connections,
        size: args.size,
        duration: Duration::from_secs_f64(args.duration),
        timeout: Duration::from_secs_f64(args.timeout),
        pid: args.pid,
    };
    let r = crate::echo::run(&config).map_err(|e| e.to_string())?;
    let e = &r.errors;
    let table = format!(
        "echo {}: {} connections, {} B messages, {:.2}s\n  \
         messages     {} ({:.1}/s), {:.2} MB/s echoed\n  \
         latency      {}\n  \
         mismatches   {}\n  \
         errors       {} (connect {}, read {}, write {}, timeout {})\n{}",
        r.addr,
        r.connections,
        r.size,
        r.elapsed_s,
        r.messages,
        r.messages_per_s,
        r.mb_per_s,
        r.latency.line(),
        r.mismatches,
        e.total(),
        e.connect,
        e.read,
        e.write,
        e.timeout,
        cost_lines(&r.server, &r.client),
    );
    print_report(&table, &r, args.json)?;
    match r.messages {
        0 => Err(Failure::Run(format!(
            "no message came back ({} errors, {} mismatches)",
            e.total(),
            r.mismatches
        ))),
        _ => Ok(()),
    }
}

/// `bench hold`: ramp up to N keep-alive connections and hold them, a
/// line a second; exit 1 if none was held.
pub fn hold(args: HoldArgs) -> Result<(), Failure> {
    let (count, every) = parse_ramp(&args.ramp).map_err(Failure::Usage)?;
    let limit = plumbing::raise_fd_limit();
    if args.connections as u64 + 64 > limit {
        return Err(Failure::Usage(format!(
            "-n {} needs more fds than the limit of {limit}",
            args.connections
        )));
    }
    check_pid(args.pid)?;
    let target = Target::parse_url(&args.url).map_err(Failure::Usage)?;
    check_reachable(target.addr)?;
    let config = HoldConfig {
        target,
        connections: args.connections,
        ramp_count: count,
        ramp_every: every,
        keepalive: Duration::from_secs(args.keepalive),
        duration: Duration::from_secs_f64(args.duration),
        pid: args.pid,
        timeout: Duration::from_secs_f64(args.timeout),
    };
    eprintln!("   t(s)    open  refused  reset  timeout  requests  server RSS  server CPU");
    let r = crate::hold::run(&config, |s| {
        let rss = s.server_rss.map_or("-".into(), megabytes);
        let cpu = s
            .server_cpu_percent
            .map_or("-".into(), |c| format!("{c:.0}%"));
        eprintln!(
            "{:7.1} {:7} {:8} {:6} {:8} {:9} {:>11} {:>11}",
            s.t_s, s.open, s.refused, s.reset, s.timed_out, s.requests, rss, cpu
        );
    })
    .map_err(|e| e.to_string())?;
    let per_conn = r
        .server_bytes_per_connection
        .map_or("-".into(), |b| format!("{b:.0} B"));
    let table = format!(
        "hold {}: {} connections asked\n  \
         held         max {}, at end {}\n  \
         failures     refused {}, reset {}, timed out {}, bad answers {}\n  \
         requests     {} HEADs answered\n  \
         server RSS   before {}, full {}, per held connection {per_conn}\n  \
         bench        RSS full {}, peak {}; CPU {}\n{}",
        r.url,
        r.target,
        r.held_max,
        r.held_at_end,
        r.refused,
        r.reset,
        r.timed_out,
        r.bad_answers,
        r.requests,
        r.server_rss_before.map_or("-".into(), megabytes),
        r.server_rss_full.map_or("-".into(), megabytes),
        r.bench_rss_full.map_or("-".into(), megabytes),
        megabytes(r.bench_peak_rss),
        r.bench_cpu_percent
            .map_or("-".into(), |p| format!("{p:.0}% of a core")),
        cost_lines(&r.server, &r.client),
    );
    print_report(&table, &r, args.json)?;
    match r.held_max {
        0 => Err(Failure::Run(format!(
            "no connection was held (refused {}, reset {}, timed out {})",
            r.refused, r.reset, r.timed_out
        ))),
        _ => Ok(()),
    }
}

/// `10/10ms` or `5/1s`: how many connections per step, and the step.
fn parse_ramp(ramp: &str) -> Result<(usize, Duration), String> {
    let bad = || format!("--ramp {ramp}: expected COUNT/INTERVAL such as 10/10ms");
    let (count, every) = ramp.split_once('/').ok_or_else(bad)?;
    let count: usize = count.parse().map_err(|_| bad())?;
    let every = if let Some(ms) = every.strip_suffix("ms") {
        Duration::from_millis(ms.parse().map_err(|_| bad())?)
    } else if let Some(s) = every.strip_suffix('s') {
        Duration::from_secs_f64(s.parse().map_err(|_| bad())?)
    } else {
        return Err(bad());
    };
    if count == 0 || every.is_zero() {
        return Err(bad());
    }
    Ok((count, every))
}

fn load_table(r: &LoadReport) -> String {
    let mode = match (r.keepalive, r.pipeline, r.rate) {
        (false, _, _) => "new connection per request".to_string(),
        (true, 1, None) => "keep-alive".to_string(),
        (true, k, None) => format!("keep-alive, pipeline {k}"),
        (true, _, Some(rate)) => format!("keep-alive, fixed rate {rate} req/s"),
    };
    let e = &r.errors;
    format!(
        "load {}: {} connections, {} thread(s), {:.2}s, {mode}\n  \
         requests     {} ({:.1}/s), {} ({:.2} MB/s)\n  \
         latency      {}  mean {}\n  \
         errors       {} (connect {}, read {}, write {}, timeout {}, status {}, body {})\n  \
         per conn     min {} max {} requests\n{}",
        r.url,
        r.connections,
        r.threads,
        r.elapsed_s,
        r.requests,
        r.requests_per_s,
        megabytes(r.bytes),
        r.mb_per_s,
        r.latency.line(),
        crate::stats::micros(r.latency.mean_us as u64),
        e.total(),
        e.connect,
        e.read,
        e.write,
        e.timeout,
        e.status,
        e.body,
        r.per_connection_min,
        r.per_connection_max,
        cost_lines(&r.server, &r.client),
    )
}

/// The server's costs and the bench's own CPU, as the text reports end;
/// a warning when the client, not the server, was the limit.
fn cost_lines(server: &crate::cost::Costs, client: &crate::cost::Client) -> String {
    let mut lines = format!(
        "  server       {}\n  client       {:.0}% of a core\n",
        server.line(),
        client.cpu_share * 100.0
    );
    if crate::cost::client_bound(server, client) {
        lines.push_str(
            "  note         the client was the limit: its core was full and the server's was not\n",
        );
    }
    lines
}
