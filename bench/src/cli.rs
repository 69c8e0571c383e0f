//! `bench`'s command line, as a library module: the binary parses with it,
//! and the book's test (`tests/book_commands.rs`) checks every `bench`
//! command the book prints with the same parser, so a command the book
//! shows is one `bench` takes. The generator's modes take the flags
//! `loadgen::cli` declares; the lab's are here.

use clap::{Parser, Subcommand};

pub use loadgen::cli::{EchoArgs, HoldArgs, LoadArgs};

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
    /// The lab, live: a page on 127.0.0.1 that starts two to four servers
    /// side by side and shows their costs once a second as the load changes.
    Live(LiveArgs),
    /// `bench live`'s holder of one server's idle connections, in a process
    /// of its own (not for users: the lab starts it).
    #[command(hide = true)]
    LiveHold(LiveHoldArgs),
}

/// `bench live-hold`'s one argument.
#[derive(clap::Args)]
pub struct LiveHoldArgs {
    /// The server whose idle connections to hold.
    pub addr: std::net::SocketAddr,
}

/// `bench live`'s flags.
#[derive(clap::Args)]
pub struct LiveArgs {
    /// The page's port, on 127.0.0.1 (0: any free one).
    #[arg(long, default_value_t = 7200)]
    pub port: u16,
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
