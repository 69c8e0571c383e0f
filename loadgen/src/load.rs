//! `bench load`: HTTP requests over many connections, every response checked.
//!
//! Each thread runs one mio event loop (edge-triggered epoll) over its share
//! of the connections, as wrk does. A connection ("slot") sends a request (or
//! `--pipeline K` of them), reads until every answer is complete, and sends
//! again; with `--no-keepalive` each request gets a connection of its own, as
//! `ab` does. With `--rate R` requests leave on a fixed schedule and each
//! latency is measured from its *planned* send time, so a server that stalls
//! is charged for every request that had to wait, not just the one it was
//! serving (no coordinated omission, as in wrk2).
//!
//! Here what a run is asked and what it reports; `worker` is one thread's
//! event loop, and its `traffic` what goes over each connection.

use std::io;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::cost::{Client, Costs, Meter, Unit};

mod worker;

use crate::stats::{Errors, Percentiles, histogram};
use crate::target::Target;
use worker::Worker;

/// When a run ends.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    /// After this long (`-d`); requests still in flight then are not counted.
    After(Duration),
    /// After this many requests have been answered or have failed (`-n`).
    Requests(u64),
}

/// What `bench load` was asked to do.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Where and what to request.
    pub target: Target,
    /// Concurrent connections (`-c`).
    pub connections: usize,
    /// Event-loop threads (`-t`); the connections are split between them.
    pub threads: usize,
    /// `-d` or `-n`.
    pub stop: Stop,
    /// False for `--no-keepalive`: a new connection per request.
    pub keepalive: bool,
    /// Requests sent back to back before reading (`--pipeline`).
    pub pipeline: usize,
    /// Total requests per second on a fixed schedule (`--rate`).
    pub rate: Option<f64>,
    /// How long a request may wait for its answer (`--timeout`).
    pub timeout: Duration,
    /// HEAD instead of GET (`--head`).
    pub head: bool,
    /// The server's PID (`--pid`): count what it costs per request.
    pub pid: Option<u32>,
}

/// The result of a run; `--json` prints it with these field names.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// The URL requested.
    pub url: String,
    /// Connections.
    pub connections: usize,
    /// Threads.
    pub threads: usize,
    /// Whether connections were reused.
    pub keepalive: bool,
    /// Requests per batch.
    pub pipeline: usize,
    /// The fixed rate asked for, if any.
    pub rate: Option<f64>,
    /// Wall-clock length of the run, seconds.
    pub elapsed_s: f64,
    /// Requests answered with a valid 200.
    pub requests: u64,
    /// `requests / elapsed_s`.
    pub requests_per_s: f64,
    /// Bytes received (heads and bodies).
    pub bytes: u64,
    /// `bytes / elapsed_s / 10^6`.
    pub mb_per_s: f64,
    /// Latency of the successful requests.
    pub latency: Percentiles,
    /// Failed requests by kind.
    pub errors: Errors,
    /// Fewest successful requests on one connection slot (0 shows starvation).
    pub per_connection_min: u64,
    /// Most successful requests on one connection slot.
    pub per_connection_max: u64,
    /// What the server (`--pid`) cost per request, counted by the kernel.
    pub server: Costs,
    /// The bench's own share of a core.
    pub client: Client,
    /// The full latency histogram, for merging; not printed.
    #[serde(skip)]
    pub histogram: Histogram<u64>,
}

/// Counters the threads share: claims for `-n`, and progress.
#[derive(Debug, Default)]
pub struct Shared {
    /// Requests claimed so far (`-n` mode): a thread claims before it sends.
    claimed: AtomicU64,
    /// Requests finished (answered or failed), for the progress line.
    pub finished: AtomicU64,
}

/// Runs the load and returns the merged report.
pub fn run(config: &LoadConfig, shared: &Shared) -> io::Result<LoadReport> {
    if config.rate.is_some() && config.pipeline > 1 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "--rate and --pipeline do not combine",
        ));
    }
    let threads = config.threads.clamp(1, config.connections.max(1));
    let meter = Meter::start(config.pid);
    let start = Instant::now();
    let results: Vec<io::Result<Worker>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let slots =
                    config.connections / threads + usize::from(t < config.connections % threads);
                scope.spawn(move || {
                    let mut worker = Worker::new(config, slots, threads, shared, start)?;
                    worker.run()?;
                    Ok(worker)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("load thread panicked"))
            .collect()
    });
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    let totals = meter.stop();
    let mut merged = histogram();
    let mut errors = Errors::default();
    let (mut requests, mut bytes) = (0, 0);
    let mut per_slot = Vec::new();
    for worker in results {
        let worker = worker?;
        merged.add(&worker.histogram).expect("same bounds");
        errors.add(&worker.errors);
        requests += worker.requests;
        bytes += worker.bytes;
        per_slot.extend(worker.slots.iter().map(|s| s.completed));
    }
    Ok(LoadReport {
        url: format!("http://{}{}", config.target.host, config.target.path),
        connections: config.connections,
        threads,
        keepalive: config.keepalive,
        pipeline: config.pipeline,
        rate: config.rate,
        elapsed_s: elapsed,
        requests,
        requests_per_s: requests as f64 / elapsed,
        bytes,
        mb_per_s: bytes as f64 / elapsed / 1e6,
        latency: Percentiles::of(&merged),
        errors,
        per_connection_min: per_slot.iter().copied().min().unwrap_or(0),
        per_connection_max: per_slot.iter().copied().max().unwrap_or(0),
        server: totals.per(requests, Unit::Request),
        client: totals.client(),
        histogram: merged,
    })
}
