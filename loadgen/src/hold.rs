//! `bench hold`: the long-connection experiment from the sources. Open
//! connections in steps (`--ramp 10/10ms`: 10 every 10 ms) up to `-n`, keep
//! each alive with a `HEAD` at a random interval of 1..keepalive/2 seconds,
//! check every answer, and report over time how many are open, refused,
//! reset or timed out, with the server's memory and CPU (`--pid`) and the
//! bench's own memory. One thread: holding connections is waiting, not work.
//!
//! Here what a hold is asked and what it reports; `holder` is the hold in
//! progress (the ramp, the HEADs on their timers, the samples, the reads).

use std::collections::BinaryHeap;
use std::io;
use std::time::{Duration, Instant};

use mio::Poll;
use serde::Serialize;

use crate::cost::{Client, Costs, Meter, Unit};
use crate::procfs;
use crate::target::Target;

mod holder;

use holder::{Counts, Holder, Rng};

/// What `bench hold` was asked to do.
#[derive(Debug, Clone)]
pub struct HoldConfig {
    /// The URL whose path each HEAD asks for.
    pub target: Target,
    /// Connections to hold.
    pub connections: usize,
    /// Connections opened per step of the ramp.
    pub ramp_count: usize,
    /// Time between ramp steps.
    pub ramp_every: Duration,
    /// HEADs go out every 1..keepalive/2 seconds, at random.
    pub keepalive: Duration,
    /// How long to hold once the ramp is done.
    pub duration: Duration,
    /// The server's PID, to read its memory and CPU, and count what it
    /// costs per HEAD answered.
    pub pid: Option<u32>,
    /// How long a HEAD may wait for its answer.
    pub timeout: Duration,
}

/// One line of the report over time.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Seconds since the start.
    pub t_s: f64,
    /// Connections open and answering.
    pub open: usize,
    /// Connects refused or failed, and connections answered `503` (the
    /// server at its limit), so far.
    pub refused: u64,
    /// Connections reset or closed by the server so far.
    pub reset: u64,
    /// HEADs unanswered within the timeout so far.
    pub timed_out: u64,
    /// HEADs answered so far.
    pub requests: u64,
    /// The server's resident memory, bytes (with `--pid`).
    pub server_rss: Option<u64>,
    /// The server's CPU use since the last sample, percent of one core.
    pub server_cpu_percent: Option<f64>,
}

/// The result; `--json` prints it with these field names.
#[derive(Debug, Clone, Serialize)]
pub struct HoldReport {
    /// The URL.
    pub url: String,
    /// Connections asked for.
    pub target: usize,
    /// Most connections open at once.
    pub held_max: usize,
    /// Connections open at the end.
    pub held_at_end: usize,
    /// Connects refused or failed, and connections answered `503`.
    pub refused: u64,
    /// Connections reset or closed by the server.
    pub reset: u64,
    /// HEADs that timed out.
    pub timed_out: u64,
    /// Answers that were not a valid 200.
    pub bad_answers: u64,
    /// HEADs answered.
    pub requests: u64,
    /// The server's RSS before the first connection, bytes.
    pub server_rss_before: Option<u64>,
    /// The server's RSS with every connection held, bytes.
    pub server_rss_full: Option<u64>,
    /// `(full - before) / held`.
    pub server_bytes_per_connection: Option<f64>,
    /// The bench's own peak RSS, bytes.
    pub bench_peak_rss: u64,
    /// The bench's own RSS once every connection was open, bytes: what
    /// holding them costs the client (the sources' Python client: 115 MB
    /// for 10,000).
    pub bench_rss_full: Option<u64>,
    /// The bench's own CPU use over the whole hold, percent of one core.
    pub bench_cpu_percent: Option<f64>,
    /// The growth of the kernel's stacks over the held connections (the
    /// machine's `KernelStack` in `/proc/meminfo`, so other processes'
    /// threads count too): a thread's kernel stack is not in any RSS.
    pub kernel_stack_per_connection: Option<f64>,
    /// What the server (`--pid`) cost per HEAD answered, over the whole
    /// hold, ramp included, counted by the kernel.
    pub server: Costs,
    /// The bench's own share of a core over the whole hold.
    pub client: Client,
    /// One sample per second.
    pub samples: Vec<Sample>,
}

/// Runs the hold; `on_sample` sees each one-second sample as it is taken.
pub fn run(config: &HoldConfig, mut on_sample: impl FnMut(&Sample)) -> io::Result<HoldReport> {
    let usage = || config.pid.and_then(procfs::usage);
    let rss_before = usage().map(|u| u.rss);
    let kernel_stack_before = procfs::kernel_stack();
    let meter = Meter::start(config.pid);
    let start = Instant::now();
    let mut holder = Holder {
        config,
        poll: Poll::new()?,
        request: config.target.request("HEAD", false),
        slots: Vec::with_capacity(config.connections),
        timers: BinaryHeap::new(),
        rng: Rng(0x9e37_79b9_7f4a_7c15),
        buf: vec![0u8; 16 * 1024],
        counts: Counts::default(),
        start,
        next_ramp: start,
        next_sample: start + Duration::from_secs(1),
        last_usage: usage().map(|u| (Instant::now(), u)),
        samples: Vec::new(),
    };
    let full = holder.hold(&mut on_sample)?;
    let totals = meter.stop();
    let client = totals.client();
    let Counts {
        refused,
        reset,
        timed_out,
        bad,
        requests,
        open,
        held_max,
    } = holder.counts;
    let per_held = |before: Option<u64>, full: Option<u64>| match (before, full) {
        (Some(before), Some(full)) if held_max > 0 => {
            Some((full as f64 - before as f64) / held_max as f64)
        }
        _ => None,
    };
    Ok(HoldReport {
        url: format!("http://{}{}", config.target.host, config.target.path),
        target: config.connections,
        held_max,
        held_at_end: open,
        refused,
        reset,
        timed_out,
        bad_answers: bad,
        requests,
        server_rss_before: rss_before,
        server_rss_full: full.rss,
        server_bytes_per_connection: per_held(rss_before, full.rss),
        bench_peak_rss: procfs::own_peak_rss(),
        bench_rss_full: full.own_rss,
        // The meter's client share, as a percentage: one measurement.
        bench_cpu_percent: Some(client.cpu_share * 100.0),
        kernel_stack_per_connection: per_held(kernel_stack_before, full.kernel_stack),
        server: totals.per(requests, Unit::Request),
        client,
        samples: holder.samples,
    })
}
