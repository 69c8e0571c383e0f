//! `bench`'s command line, as a library module: the binary parses with it,
//! and the book's test (`tests/book_commands.rs`) checks every `bench`
//! command the book prints with the same parser, so a command the book
//! shows is one `bench` takes.

use clap::{Parser, Subcommand};

use crate::target::{Target, resolve};

/// `URL` arguments: a full `http://HOST:PORT/PATH`, refused at parse time
/// otherwise (a bare `/numbers.txt` names no server).
fn url(text: &str) -> Result<String, String> {
    Target::parse_url(text).map(|_| text.to_string())
}

/// `ADDR` arguments: `HOST:PORT`.
fn host_port(text: &str) -> Result<String, String> {
    resolve(text).map(|_| text.to_string())
}

/// A load generator for the iomodels servers.
#[derive(Parser)]
#[command(
    name = "bench",
    version,
    about = "Load generator for the iomodels servers (load, echo, hold), and the lab \
             that compares them (compare, cores, timeline)"
)]
pub struct Cli {
    #[command(subcommand)]
    /// The mode to run.
    pub mode: Mode,
}

/// The modes, one per subcommand.
#[derive(Subcommand)]
pub enum Mode {
    /// HTTP requests at a concurrency, every response checked.
    Load(LoadArgs),
    /// Echo messages over many connections, every byte compared.
    Echo(EchoArgs),
    /// Ramp up to N keep-alive connections and hold them with periodic HEADs.
    Hold(HoldArgs),
    /// Every model binary of the workspace through the same scenarios: one table.
    Compare(CompareArgs),
    /// The conformance suite against each model's core (examples/*_core.rs):
    /// which cases the model as first written fails.
    Cores(CoresArgs),
    /// Every server under strace through one choreography of four clients:
    /// a swimlane timeline (SVG) and a Perfetto trace per server.
    Timeline(TimelineArgs),
}

/// `bench timeline`'s flags.
#[derive(clap::Args)]
pub struct TimelineArgs {
    /// Only these servers, comma-separated (`epoll,uring`) [default: every
    /// server].
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Write into the book's results (docs/src/results), as the book's
    /// timelines are made.
    #[arg(long)]
    pub book: bool,
    /// Where to write `timelines/SERVER.{svg,json}` [default:
    /// target/timeline; docs/src/results with --book].
    #[arg(long, value_name = "DIR", conflicts_with = "book")]
    pub out: Option<std::path::PathBuf>,
}

/// `bench cores`'s flags.
#[derive(clap::Args)]
pub struct CoresArgs {
    /// Only a few cases every core must pass (it serves the protocol at
    /// all): fails if one does not. For CI; writes nothing.
    #[arg(long)]
    pub quick: bool,
    /// Write into the book's results (docs/src/results), as the book's
    /// cores.md is made.
    #[arg(long)]
    pub book: bool,
    /// Where to write cores.json and cores.md [default: target/cores;
    /// docs/src/results with --book].
    #[arg(long, value_name = "DIR", conflicts_with = "book")]
    pub out: Option<std::path::PathBuf>,
    /// Write cores.md again from cores.json, without running anything.
    #[arg(long, conflicts_with = "quick")]
    pub redraw: bool,
}

/// `bench compare`'s flags.
#[derive(clap::Args)]
pub struct CompareArgs {
    /// One round of short runs (0.5 s, holds of 300 for 0.3 s), each binary
    /// with no model flags: under two minutes once built, for CI.
    #[arg(long, conflicts_with = "book")]
    pub quick: bool,
    /// The run the book's results come from, written into the book
    /// (docs/src/results): 5 rounds of 2 s, holds of 19,000 for 3 s, and
    /// the wrk scenario (see the README for how long it takes). With
    /// --sweeps, the book's sweeps; with --redraw, the book's tables.
    #[arg(long)]
    pub book: bool,
    /// Instead of the scenarios, the sweeps: how each model's cost grows
    /// with idle connections (10 busy clients beside 0 to 19,000 idle) and
    /// with concurrency (c1 to c10,000), and its memory with the
    /// connections held; 3 rounds of 1 s per step. Writes sweeps.json,
    /// sweeps.md and the curves (--quick runs a short sweep after the
    /// scenarios).
    #[arg(long, conflicts_with_all = ["quick", "scenario"])]
    pub sweeps: bool,
    /// Rounds per cell, interleaved across the servers (default: 3; 1 with
    /// --quick, 5 with --book).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub rounds: Option<u32>,
    /// Only these servers: binary names or variant names, comma-separated
    /// (`epoll,uring`); an experiment variant, which no run measures
    /// unasked, by its full name (`"uring --wait one"`) [default: every
    /// server, and nginx when installed].
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Only these scenarios, comma-separated: keepalive, close, 64k, delay,
    /// echo, hold, wall, idle, stall, wrk, ab, sleep, hello (all but wrk
    /// by default; all with --book).
    #[arg(long, value_delimiter = ',')]
    pub scenario: Vec<String>,
    /// Where to write compare.json, compare.md and the charts [default:
    /// target/compare, target/compare-quick with --quick; docs/src/results
    /// with --book].
    #[arg(long, value_name = "DIR", conflicts_with = "book")]
    pub out: Option<std::path::PathBuf>,
    /// Measure nothing: draw the charts and write the tables (compare.md,
    /// chapters.md; sweeps.md) again from the compare.json (and
    /// sweeps.json) in --out (the book's, with --book).
    #[arg(long)]
    pub redraw: bool,
}

/// `bench echo`'s arguments.
#[derive(clap::Args)]
pub struct EchoArgs {
    /// The echo server, HOST:PORT.
    #[arg(value_parser = host_port)]
    pub addr: String,
    /// Concurrent connections.
    #[arg(short = 'c', long, default_value_t = 10)]
    pub connections: usize,
    /// Bytes per message.
    #[arg(long, default_value_t = 128)]
    pub size: usize,
    /// Seconds to run.
    #[arg(short = 'd', long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds a message may take to come back.
    #[arg(long, default_value_t = 2.0)]
    pub timeout: f64,
    /// The server's PID: count what it costs per message (CPU, system
    /// calls, context switches), its threads and children included
    /// [default: none; only the bench's own CPU is measured].
    #[arg(long)]
    pub pid: Option<u32>,
    /// Print the report as JSON on stdout (the table goes to stderr).
    #[arg(long)]
    pub json: bool,
}

/// `bench hold`'s arguments.
#[derive(clap::Args)]
pub struct HoldArgs {
    /// The URL each HEAD asks for, http://HOST:PORT/PATH.
    #[arg(value_parser = url)]
    pub url: String,
    /// Connections to hold.
    #[arg(short = 'n', long)]
    pub connections: usize,
    /// COUNT/INTERVAL: open COUNT connections every INTERVAL (ms or s).
    #[arg(long, default_value = "10/10ms")]
    pub ramp: String,
    /// HEADs go out at a random interval of 1..KEEPALIVE/2 seconds.
    #[arg(long, default_value_t = 60)]
    pub keepalive: u64,
    /// Seconds to hold once every connection is open.
    #[arg(short = 'd', long, default_value_t = 30.0)]
    pub duration: f64,
    /// The server's PID: report its memory and CPU, and count what it
    /// costs per HEAD (CPU, system calls, context switches) [default:
    /// none; only the bench's own memory and CPU are measured].
    #[arg(long)]
    pub pid: Option<u32>,
    /// Seconds a HEAD may wait for its answer.
    #[arg(long, default_value_t = 5.0)]
    pub timeout: f64,
    /// Print the report as JSON on stdout (the table goes to stderr).
    #[arg(long)]
    pub json: bool,
}

/// `bench load`'s arguments.
#[derive(clap::Args)]
pub struct LoadArgs {
    /// The URL to request, http://HOST:PORT/PATH.
    #[arg(value_parser = url)]
    pub url: String,
    /// Concurrent connections.
    #[arg(short = 'c', long, default_value_t = 10)]
    pub connections: usize,
    /// Run for this many seconds [default: 10, unless -n is given].
    #[arg(short = 'd', long, conflicts_with = "requests")]
    pub duration: Option<f64>,
    /// Run until this many requests are answered or failed [default: none;
    /// the run lasts -d].
    #[arg(short = 'n', long)]
    pub requests: Option<u64>,
    /// Event-loop threads.
    #[arg(short = 't', long, default_value_t = 1)]
    pub threads: usize,
    /// A new connection for every request (as ab without -k).
    #[arg(long)]
    pub no_keepalive: bool,
    /// Requests sent back to back before reading the answers.
    #[arg(long, default_value_t = 1)]
    pub pipeline: usize,
    /// Total requests per second, on a fixed schedule; latency counts from
    /// the planned send time [default: none; each connection sends its
    /// next request as soon as it has its answer].
    #[arg(long)]
    pub rate: Option<f64>,
    /// Seconds a request may wait for its answer.
    #[arg(long, default_value_t = 2.0)]
    pub timeout: f64,
    /// HEAD instead of GET.
    #[arg(long)]
    pub head: bool,
    /// The server's PID: count what it costs per request (CPU, system
    /// calls, context switches), its threads and children included
    /// [default: none; only the bench's own CPU is measured].
    #[arg(long)]
    pub pid: Option<u32>,
    /// Print the report as JSON on stdout (the table goes to stderr).
    #[arg(long)]
    pub json: bool,
}
