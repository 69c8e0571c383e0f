//! `bench`: parse the command line, run the mode, print the report.

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bench::load::{self, LoadConfig, LoadReport, Shared, Stop};
use bench::stats::megabytes;
use bench::target::Target;
use clap::{Parser, Subcommand};

/// A load generator for the iomodels servers.
#[derive(Parser)]
#[command(
    name = "bench",
    about = "Load generator for the iomodels servers (load, echo, hold)"
)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// HTTP requests at a concurrency, every response checked.
    Load(LoadArgs),
}

#[derive(clap::Args)]
struct LoadArgs {
    /// The URL to request, http://HOST:PORT/PATH.
    url: String,
    /// Concurrent connections.
    #[arg(short = 'c', long, default_value_t = 10)]
    connections: usize,
    /// Run for this many seconds.
    #[arg(short = 'd', long, conflicts_with = "requests")]
    duration: Option<f64>,
    /// Run until this many requests are answered or failed.
    #[arg(short = 'n', long)]
    requests: Option<u64>,
    /// Event-loop threads.
    #[arg(short = 't', long, default_value_t = 1)]
    threads: usize,
    /// A new connection for every request (as ab without -k).
    #[arg(long)]
    no_keepalive: bool,
    /// Requests sent back to back before reading the answers.
    #[arg(long, default_value_t = 1)]
    pipeline: usize,
    /// Total requests per second, on a fixed schedule; latency counts from
    /// the planned send time.
    #[arg(long)]
    rate: Option<f64>,
    /// Seconds a request may wait for its answer.
    #[arg(long, default_value_t = 2.0)]
    timeout: f64,
    /// HEAD instead of GET.
    #[arg(long)]
    head: bool,
    /// Print the report as JSON on stdout (the table goes to stderr).
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.mode {
        Mode::Load(args) => run_load(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench: {err}");
            ExitCode::from(1)
        }
    }
}

fn run_load(args: LoadArgs) -> Result<(), String> {
    let stop = match (args.duration, args.requests) {
        (_, Some(n)) => Stop::Requests(n),
        (Some(d), None) => Stop::After(Duration::from_secs_f64(d)),
        (None, None) => Stop::After(Duration::from_secs(10)),
    };
    if args.connections == 0 || args.pipeline == 0 {
        return Err("-c and --pipeline must be at least 1".into());
    }
    bench::net::raise_fd_limit();
    let config = LoadConfig {
        target: Target::parse_url(&args.url)?,
        connections: args.connections,
        threads: args.threads,
        stop,
        keepalive: !args.no_keepalive,
        pipeline: args.pipeline,
        rate: args.rate,
        timeout: Duration::from_secs_f64(args.timeout),
        head: args.head,
    };
    let shared = Shared::default();
    let report =
        with_progress(&shared, || load::run(&config, &shared)).map_err(|e| e.to_string())?;
    let table = load_table(&report);
    if args.json {
        eprint!("{table}");
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        print!("{table}");
    }
    Ok(())
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
         per conn     min {} max {} requests\n",
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
    )
}
