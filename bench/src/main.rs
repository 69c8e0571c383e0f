//! `bench`: parse the command line, run the mode, print the report.

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bench::cli::{Cli, CompareArgs, CoresArgs, EchoArgs, HoldArgs, LoadArgs, Mode, TimelineArgs};
use bench::echo::{self, EchoConfig};
use bench::hold::{self, HoldConfig};
use bench::load::{self, LoadConfig, LoadReport, Shared, Stop};
use bench::stats::megabytes;
use bench::target::Target;
use clap::Parser;

/// Why bench stopped: a command line it cannot act on (exit 2, as for
/// clap's own usage errors: a `--pid` with no process, an `--only` that
/// names no server), or a run that failed or measured nothing (exit 1).
enum Failure {
    /// Exit 2.
    Usage(String),
    /// Exit 1.
    Run(String),
}

impl From<String> for Failure {
    fn from(why: String) -> Failure {
        Failure::Run(why)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.mode {
        Mode::Load(args) => run_load(args),
        Mode::Echo(args) => run_echo(args),
        Mode::Hold(args) => run_hold(args),
        Mode::Compare(args) => run_compare(args),
        Mode::Cores(args) => run_cores(args),
        Mode::Timeline(args) => run_timeline(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(why)) => {
            eprintln!("bench: {why}");
            ExitCode::from(2)
        }
        Err(Failure::Run(why)) => {
            eprintln!("bench: {why}");
            ExitCode::from(1)
        }
    }
}

/// `--pid PID` must name a running process (not one gone, nor a zombie):
/// a meter on no process would count nothing and call it a cost.
fn check_pid(pid: Option<u32>) -> Result<(), Failure> {
    match pid {
        Some(pid) if bench::procfs::exited(pid) => {
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

/// `bench cores`: builds the cores, runs the suite against each, and
/// writes what each fails (or, `--quick`, checks that each serves at all).
fn run_cores(args: CoresArgs) -> Result<(), Failure> {
    use bench::cores;
    let workspace = bench::compare::workspace().map_err(|e| format!("cargo metadata: {e}"))?;
    let out = args
        .out
        .unwrap_or_else(|| workspace.out(args.book, "cores"));
    if args.redraw {
        let path = out.join("cores.json");
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let results: cores::Results =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(write_cores(&results, &out)?);
    }
    bench::compare::build("--examples").map_err(|e| e.to_string())?;
    let dir = workspace.bin_dir.join("examples");
    let only: &[&str] = if args.quick { cores::QUICK } else { &[] };
    let results = cores::run(&dir, only);
    cores::end_leftovers();
    if args.quick {
        let failed: Vec<String> = results
            .iter()
            .flat_map(|(binary, verdicts)| {
                verdicts.iter().filter_map(move |v| {
                    Some(format!(
                        "{binary} core :: {}: {}",
                        v.case,
                        v.failure.as_ref()?
                    ))
                })
            })
            .collect();
        if !failed.is_empty() {
            return Err(format!("a core does not serve:\n{}", failed.join("\n")).into());
        }
        println!("every core passes {}", cores::QUICK.join(", "));
        return Ok(());
    }
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    // The table first: a run it refuses leaves cores.json as it was.
    write_cores(&results, &out)?;
    std::fs::write(out.join("cores.json"), json + "\n").map_err(|e| e.to_string())?;
    Ok(())
}

/// Writes cores.md, once every failure has its word in `cores::fix`.
fn write_cores(results: &bench::cores::Results, out: &std::path::Path) -> Result<(), String> {
    let unexplained = bench::cores::unexplained(results);
    if !unexplained.is_empty() {
        return Err(format!(
            "failures with no word in bench::cores::fix for what the real server adds:\n{}",
            unexplained.join("\n")
        ));
    }
    let path = out.join("cores.md");
    std::fs::write(&path, bench::cores::markdown(results)).map_err(|e| e.to_string())?;
    println!("wrote {}", path.display());
    Ok(())
}

/// `bench timeline`: records every server (or `--only` some) under the
/// choreography, and draws them all on one time axis.
fn run_timeline(args: TimelineArgs) -> Result<(), Failure> {
    use bench::timeline;
    let workspace = bench::compare::workspace().map_err(|e| format!("cargo metadata: {e}"))?;
    // Every chapter's server, then the references (tokio).
    let known: Vec<&str> = bench::cores::CORES
        .iter()
        .map(|&(binary, _)| binary)
        .chain(bench::compare::REFERENCES.iter().copied())
        .collect();
    if let Some(unknown) = args.only.iter().find(|o| !known.contains(&o.as_str())) {
        return Err(Failure::Usage(format!(
            "--only {unknown}: no such server; one of {}",
            known.join(", ")
        )));
    }
    bench::compare::build("--bins").map_err(|e| e.to_string())?;
    let out = args
        .out
        .unwrap_or_else(|| workspace.out(args.book, "timeline"));
    let dir = out.join("timelines");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut recordings = Vec::new();
    for binary in known {
        if !args.only.is_empty() && !args.only.iter().any(|o| o == binary) {
            continue;
        }
        eprintln!("recording {binary} under strace");
        let path = workspace.bin_dir.join(binary);
        recordings.push(timeline::record(binary, &path, &[], scratch.path())?);
    }
    // One time axis for all: the longest choreography, to the next 100 ms.
    let longest = recordings
        .iter()
        .flat_map(|r| r.events.iter().map(move |e| e.at - r.zero))
        .fold(0.0, f64::max);
    let span = (longest * 10.0).ceil() / 10.0 + 0.05;
    for recording in &recordings {
        let svg = dir.join(format!("{}.svg", recording.server));
        timeline::svg(recording, &svg, span)?;
        let json = dir.join(format!("{}.json", recording.server));
        let trace = serde_json::to_string(&recording.perfetto()).map_err(|e| e.to_string())?;
        std::fs::write(&json, trace).map_err(|e| format!("{}: {e}", json.display()))?;
        println!("wrote {}", svg.display());
    }
    print!("{}", timeline::summary(&recordings));
    Ok(())
}

fn run_load(args: LoadArgs) -> Result<(), Failure> {
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
        with_progress(&shared, || load::run(&config, &shared)).map_err(|e| e.to_string())?;
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

fn run_echo(args: EchoArgs) -> Result<(), Failure> {
    if args.connections == 0 || args.size == 0 {
        return Err(Failure::Usage("-c and --size must be at least 1".into()));
    }
    check_pid(args.pid)?;
    let addr = bench::target::resolve(&args.addr).map_err(Failure::Usage)?;
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
    let r = echo::run(&config).map_err(|e| e.to_string())?;
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

fn run_hold(args: HoldArgs) -> Result<(), Failure> {
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
    let r = hold::run(&config, |s| {
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
        bench::stats::micros(r.latency.mean_us as u64),
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
fn cost_lines(server: &bench::cost::Costs, client: &bench::cost::Client) -> String {
    let mut lines = format!(
        "  server       {}\n  client       {:.0}% of a core\n",
        server.line(),
        client.cpu_share * 100.0
    );
    if bench::cost::client_bound(server, client) {
        lines.push_str(
            "  note         the client was the limit: its core was full and the server's was not\n",
        );
    }
    lines
}

/// `bench compare`: build, then every variant through every scenario, one
/// server at a time, in rounds interleaved across the servers; the table on
/// stdout, JSON and Markdown in `--out`. Fails (exit 1) if any cell that
/// should have passed failed; a server this machine cannot run at all gets
/// `n/a` cells with its reason, and fails nothing.
fn run_compare(args: CompareArgs) -> Result<(), Failure> {
    use bench::compare::{self, Cell, Durations, Progress, Scenario};
    // cargo metadata, not a build: names are checked, and the paths found,
    // in a second, before anything is built.
    let workspace = compare::workspace().map_err(|e| format!("cargo metadata: {e}"))?;
    let out = args.out.clone().unwrap_or_else(|| match args.quick {
        true => workspace.out(false, "compare-quick"),
        false => workspace.out(args.book, "compare"),
    });
    if args.redraw {
        return redraw(&out);
    }
    let scenarios: Vec<Scenario> = match args.scenario.is_empty() {
        // wrk repeats keep-alive with another client: the book's run has
        // it, the everyday one saves the time.
        true => Scenario::ALL
            .into_iter()
            .filter(|s| args.book || *s != Scenario::Wrk)
            .collect(),
        false => args
            .scenario
            .iter()
            .map(|name| {
                Scenario::ALL
                    .into_iter()
                    .find(|s| s.name() == name)
                    .ok_or_else(|| {
                        let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
                        Failure::Usage(format!(
                            "--scenario {name}: no such scenario; one of {}",
                            names.join(", ")
                        ))
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    let variants = chosen_variants(&workspace, &args.only, args.quick)?;
    // The book's figures lead with the kernel's counts: a run that cannot
    // count them (no perf events, tracefs not mounted) would write a book
    // of "-", after 40 minutes. Say so before starting instead.
    if args.book || args.sweeps {
        bench::cost::available().map_err(|why| {
            format!(
                "the costs cannot be counted here ({why}); the book's runs need them \
                 (as root: mount -t tracefs nodev /sys/kernel/tracing)"
            )
        })?;
    }
    let started = std::time::Instant::now();
    eprintln!("bench compare: building the servers (cargo build --release)");
    compare::build("--bins").map_err(|e| e.to_string())?;
    plumbing::raise_fd_limit();
    let pinned = compare::pin(0, 1);
    let machine = bench::machine::Machine::read(&workspace.root, pinned);
    // A server the machine cannot run (uring without io_uring) is found
    // here, once, and its cells say why instead of failing.
    let unable = cannot_start(&variants, &workspace);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let sweeps = Sweeps {
        variants: &variants,
        unable: &unable,
        workspace: &workspace,
        machine: &machine,
    };
    if args.sweeps {
        let rounds = args.rounds.unwrap_or(3) as usize;
        let failed = sweeps.run(rounds, false, &out, started)?;
        return match failed {
            0 => Ok(()),
            n => Err(format!("{n} sweep step(s) failed that should have passed").into()),
        };
    }
    let (durations, default_rounds) = match (args.quick, args.book) {
        (true, _) => (
            Durations {
                run: Duration::from_millis(500),
                hold: Duration::from_millis(300),
                hold_connections: 300,
                ab_requests: 1_000,
                quick: true,
            },
            1,
        ),
        (false, true) => (
            Durations {
                run: Duration::from_secs(2),
                hold: Duration::from_secs(3),
                hold_connections: 19_000,
                ab_requests: 10_000,
                quick: false,
            },
            5,
        ),
        (false, false) => (
            Durations {
                run: Duration::from_secs(1),
                hold: Duration::from_millis(500),
                hold_connections: 5_000,
                ab_requests: 10_000,
                quick: false,
            },
            3,
        ),
    };
    let rounds = args.rounds.unwrap_or(default_rounds) as usize;
    // Every cell starts as what the model (or the machine) cannot do, or
    // as an empty run; each round adds a round to every cell that has not
    // failed.
    let mut cells: Vec<Vec<Cell>> = variants
        .iter()
        .zip(&unable)
        .map(|(variant, unable)| {
            scenarios
                .iter()
                .map(|scenario| {
                    match unable
                        .clone()
                        .or_else(|| scenario.cannot(variant, durations.quick))
                    {
                        Some(why) => Cell::Cannot { why },
                        None => Cell::Ran { rounds: Vec::new() },
                    }
                })
                .collect()
        })
        .collect();
    let to_run = cells
        .iter()
        .flatten()
        .filter(|c| matches!(c, Cell::Ran { .. }))
        .count();
    let mut progress = Progress::new((to_run * rounds) as u64, started);
    for round in 1..=rounds {
        for (variant, row) in variants.iter().zip(&mut cells) {
            for (&scenario, cell) in scenarios.iter().zip(row.iter_mut()) {
                let Cell::Ran { rounds: done } = cell else {
                    continue;
                };
                let began = std::time::Instant::now();
                let measured = compare::measure(variant, scenario, &workspace, &durations);
                progress.step(&format!(
                    "round {round}/{rounds}  {:<26} {:<30} {:5.1} s",
                    variant.name,
                    scenario.heading(),
                    began.elapsed().as_secs_f64()
                ));
                match measured {
                    Ok(measured) => done.push(measured),
                    Err(why) => {
                        progress.note(&format!("    FAILED: {why}"));
                        *cell = Cell::Failed {
                            why: format!("round {round}: {why}"),
                        };
                    }
                }
            }
        }
    }
    progress.finish();
    // The forking chapter's process-against-thread table, with the run.
    let spawn = match !args.quick && variants.iter().any(|v| v.binary == "forking") {
        true => {
            eprintln!("  the cost of a fork and of a thread (forking's example spawn_cost)");
            Some(compare::spawn_cost().map_err(|e| e.to_string())?)
        }
        false => None,
    };
    let headings: Vec<String> = scenarios.iter().map(|s| s.heading()).collect();
    let rows: Vec<_> = variants.iter().cloned().zip(cells).collect();
    print!("{}", compare_table(&headings, &rows));
    let better = |s: &Scenario| match s.better() {
        compare::Better::Higher => "higher",
        compare::Better::Lower => "lower",
    };
    let json = serde_json::json!({
        "quick": args.quick,
        "rounds": rounds,
        "run_s": durations.run.as_secs_f64(),
        "hold_connections": durations.hold_connections,
        "minutes": started.elapsed().as_secs_f64() / 60.0,
        "machine": machine,
        "scenarios": scenarios.iter().map(|s| serde_json::json!({
            "name": s.name(), "heading": s.heading(), "title": s.title(),
            "better": better(s), "per_unit_costs": s.per_unit_costs(),
        })).collect::<Vec<_>>(),
        "rows": rows.iter().map(|(v, cells)| serde_json::json!({"server": v, "cells": cells})).collect::<Vec<_>>(),
        "spawn": spawn,
    });
    write_json(&out.join("compare.json"), &json)?;
    bench::report::write(&out, &json)?;
    eprintln!(
        "bench compare: {:.1} minutes; wrote compare.json, compare.md, chapters.md and the SVG charts in {}",
        started.elapsed().as_secs_f64() / 60.0,
        out.display()
    );
    let mut failed = rows
        .iter()
        .flat_map(|(_, cells)| cells)
        .filter(|c| matches!(c, Cell::Failed { .. }))
        .count();
    // --quick exercises the sweeps too, on a short ladder.
    if args.quick {
        failed += sweeps.run(rounds, true, &out, started)?;
    }
    match failed {
        0 => Ok(()),
        n => Err(format!("{n} scenario(s) failed that should have passed").into()),
    }
}

/// `compare --redraw`: the tables and charts again from the saved
/// `compare.json` and `sweeps.json` in `out`, measuring nothing.
fn redraw(out: &std::path::Path) -> Result<(), Failure> {
    let read = |name: &str| -> Result<Option<serde_json::Value>, String> {
        let path = out.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    };
    let (compare, sweeps) = (read("compare.json")?, read("sweeps.json")?);
    if compare.is_none() && sweeps.is_none() {
        return Err(format!("{}: no compare.json or sweeps.json", out.display()).into());
    }
    if let Some(json) = compare {
        bench::report::write(out, &json)?;
    }
    bench::held::write(out).map_err(|e| format!("{}: {e}", out.display()))?;
    if let Some(json) = sweeps {
        bench::growth::write(out, &json)?;
    }
    Ok(())
}

/// The servers `--only` asks for (every one without it), each in its
/// variants (`--quick`: the first, with no model flags), and nginx when it
/// is installed; and an experiment variant (declared, not measured in
/// every run) where `--only` names it. A name that matches no server is a
/// usage error, with the names there are.
fn chosen_variants(
    workspace: &bench::compare::Workspace,
    only: &[String],
    quick: bool,
) -> Result<Vec<bench::compare::Variant>, Failure> {
    use bench::compare;
    let all: Vec<compare::Variant> = workspace
        .binaries
        .iter()
        .flat_map(|binary| compare::variants(binary))
        .chain(compare::nginx())
        .collect();
    let experiments: Vec<compare::Variant> = workspace
        .binaries
        .iter()
        .flat_map(|binary| compare::experiments(binary))
        .filter(|v| only.contains(&v.name))
        .collect();
    let known = |name: &str| {
        all.iter().any(|v| v.binary == name || v.name == name)
            || experiments.iter().any(|v| v.name == name)
    };
    if let Some(unknown) = only.iter().find(|name| !known(name)) {
        let mut names: Vec<&str> = all.iter().map(|v| v.binary.as_str()).collect();
        names.dedup();
        return Err(Failure::Usage(format!(
            "--only {unknown}: no such server; one of {} (or a variant's name, such as \"epoll --trigger edge\")",
            names.join(", ")
        )));
    }
    let mut seen = std::collections::HashSet::new();
    let chosen: Vec<compare::Variant> = all
        .into_iter()
        // --quick: each binary as it comes; a full run adds the model flags.
        .filter(|v| !quick || seen.insert(v.binary.clone()))
        .filter(|v| only.is_empty() || only.iter().any(|o| *o == v.binary || *o == v.name))
        .chain(experiments)
        .collect();
    if chosen.is_empty() {
        return Err(Failure::Usage(format!(
            "--only {}: --quick runs each binary with no model flags; name the binary",
            only.join(",")
        )));
    }
    Ok(chosen)
}

/// For each variant, why this machine cannot run it at all (`None`: it
/// can). Each binary is started once; its variants share the answer.
fn cannot_start(
    variants: &[bench::compare::Variant],
    workspace: &bench::compare::Workspace,
) -> Vec<Option<String>> {
    let mut by_binary: std::collections::HashMap<&str, Option<String>> = Default::default();
    variants
        .iter()
        .map(|variant| {
            by_binary
                .entry(&variant.binary)
                .or_insert_with(|| {
                    bench::compare::can_start(variant, workspace)
                        .err()
                        .map(|why| {
                            eprintln!("bench compare: {} cannot run here: {why}", variant.binary);
                            // The cells say the first clause (`io_uring is
                            // not available here`); the line above, all.
                            why.split(": ").next().unwrap_or(&why).to_string()
                        })
                })
                .clone()
        })
        .collect()
}

/// Writes `json` to `path`, pretty-printed.
fn write_json(path: &std::path::Path, json: &serde_json::Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(json).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// What the sweeps run on: the servers, which of them cannot run here and
/// why, and the machine, recorded with the run.
struct Sweeps<'a> {
    variants: &'a [bench::compare::Variant],
    unable: &'a [Option<String>],
    workspace: &'a bench::compare::Workspace,
    machine: &'a bench::machine::Machine,
}

impl Sweeps<'_> {
    /// The sweeps of `compare --sweeps` (a short ladder with `--quick`):
    /// every variant up each ladder in `rounds` rounds, a fresh server for
    /// each; `sweeps.json`, `sweeps.md` and the curves in `out`. Returns how
    /// many steps failed that should have passed.
    fn run(
        &self,
        rounds: usize,
        quick: bool,
        out: &std::path::Path,
        started: std::time::Instant,
    ) -> Result<usize, String> {
        use bench::compare::{self, Cell, Progress, SERVER_ARGS, Sweep};
        let run = match quick {
            true => Duration::from_millis(200),
            false => Duration::from_secs(1),
        };
        let mut sweeps: Vec<(Sweep, Vec<usize>, Vec<Vec<Cell>>)> = Sweep::ALL
            .iter()
            .map(|&sweep| {
                let points = sweep.points(quick);
                let rows = self
                    .variants
                    .iter()
                    .zip(self.unable)
                    .map(|(variant, unable)| {
                        points
                            .iter()
                            .map(
                                |&n| match unable.clone().or_else(|| sweep.cannot(variant, n)) {
                                    Some(why) => Cell::Cannot { why },
                                    None => Cell::Ran { rounds: Vec::new() },
                                },
                            )
                            .collect()
                    })
                    .collect();
                (sweep, points, rows)
            })
            .collect();
        let climbs = sweeps
            .iter()
            .flat_map(|(_, _, rows)| rows)
            .filter(|cells| cells.iter().any(|c| matches!(c, Cell::Ran { .. })))
            .count();
        let mut progress = Progress::new((climbs * rounds) as u64, started);
        for round in 1..=rounds {
            for (sweep, points, rows) in &mut sweeps {
                for (variant, cells) in self.variants.iter().zip(rows.iter_mut()) {
                    if cells.iter().all(|c| !matches!(c, Cell::Ran { .. })) {
                        continue;
                    }
                    let began = std::time::Instant::now();
                    match compare::start(variant, &SERVER_ARGS, self.workspace) {
                        Ok(server) => sweep.climb(&server, points, run, round, cells),
                        Err(why) => {
                            for cell in cells.iter_mut().filter(|c| matches!(c, Cell::Ran { .. })) {
                                *cell = Cell::Failed {
                                    why: format!("round {round}: {why}"),
                                };
                            }
                        }
                    }
                    progress.step(&format!(
                        "round {round}/{rounds}  {:<26} {:<20} {:5.1} s",
                        variant.name,
                        sweep.name(),
                        began.elapsed().as_secs_f64()
                    ));
                }
            }
        }
        progress.finish();
        let json = serde_json::json!({
            "quick": quick,
            "rounds": rounds,
            "run_s": run.as_secs_f64(),
            "minutes": started.elapsed().as_secs_f64() / 60.0,
            "machine": self.machine,
            "sweeps": sweeps.iter().map(|(sweep, points, rows)| serde_json::json!({
                "name": sweep.name(),
                "axis": sweep.axis(),
                "points": points,
                "rows": self.variants.iter().zip(rows).map(|(v, cells)| serde_json::json!({"server": v, "cells": cells})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        write_json(&out.join("sweeps.json"), &json)?;
        bench::growth::write(out, &json)?;
        eprintln!(
            "bench compare: sweeps done at {:.1} minutes; wrote sweeps.json, sweeps.md and the curves in {}",
            started.elapsed().as_secs_f64() / 60.0,
            out.display()
        );
        Ok(sweeps
            .iter()
            .flat_map(|(_, _, rows)| rows.iter().flatten())
            .filter(|c| matches!(c, Cell::Failed { .. }))
            .count())
    }
}

/// The comparison as a plain-text table, for the terminal (`compare.md`,
/// the same as Markdown with a table per scenario, is written by
/// `bench::report` from the JSON).
fn compare_table(
    headings: &[String],
    rows: &[(bench::compare::Variant, Vec<bench::compare::Cell>)],
) -> String {
    let mut lines: Vec<Vec<String>> = vec![
        std::iter::once("server".to_string())
            .chain(headings.iter().cloned())
            .collect(),
    ];
    for (variant, cells) in rows {
        lines.push(
            std::iter::once(variant.name.clone())
                .chain(cells.iter().map(|c| c.show()))
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|col| {
            lines
                .iter()
                .map(|l| l[col].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, width)| {
                let pad = width.saturating_sub(cell.chars().count());
                format!("{cell}{}", " ".repeat(pad))
            })
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}
