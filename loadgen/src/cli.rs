//! The generator's modes' flags (`bench load`, `echo`, `hold`): the
//! `bench` binary parses them, beside the lab's own (`bench::cli`), and the
//! book's test checks every `bench` command the book prints with the same
//! parser.

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
