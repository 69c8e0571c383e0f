//! `bench hold`: the long-connection experiment from the sources. Open
//! connections in steps (`--ramp 10/10ms`: 10 every 10 ms) up to `-n`, keep
//! each alive with a `HEAD` at a random interval of 1..keepalive/2 seconds,
//! check every answer, and report over time how many are open, refused,
//! reset or timed out, with the server's memory and CPU (`--pid`) and the
//! bench's own memory. One thread: holding connections is waiting, not work.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use serde::Serialize;

use crate::cost::{Client, Costs, Meter, Unit};
use crate::net::{connect_spread, connected, interrupted, wait, would_block};
use crate::procfs::{self, Usage};
use crate::response::Parser;
use crate::target::Target;

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

/// One held connection: as small as it can be, since there are thousands.
#[derive(Debug, Default)]
struct Slot {
    stream: Option<TcpStream>,
    connecting: bool,
    parser: Parser,
    /// When the outstanding HEAD was sent, if one is.
    waiting_since: Option<Instant>,
}

/// A small deterministic generator for the random HEAD intervals.
struct Rng(u64);

impl Rng {
    fn between(&mut self, low: Duration, high: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let span = high.saturating_sub(low).as_micros().max(1) as u64;
        low + Duration::from_micros(self.0 % span)
    }
}

/// Runs the hold; `on_sample` sees each one-second sample as it is taken.
pub fn run(config: &HoldConfig, mut on_sample: impl FnMut(&Sample)) -> io::Result<HoldReport> {
    let mut poll = Poll::new()?;
    let request = config.target.request("HEAD", false);
    let mut slots: Vec<Slot> = Vec::with_capacity(config.connections);
    // Next HEAD per slot, soonest first.
    let mut timers: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut buf = vec![0u8; 16 * 1024];
    let (mut refused, mut reset, mut timed_out, mut bad, mut requests) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let (mut open, mut held_max) = (0usize, 0usize);
    let interval = |rng: &mut Rng| {
        rng.between(
            Duration::from_secs(1),
            (config.keepalive / 2).max(Duration::from_secs(1)),
        )
    };

    let usage = || config.pid.and_then(procfs::usage);
    let rss_before = usage().map(|u| u.rss);
    let kernel_stack_before = procfs::kernel_stack();
    let meter = Meter::start(config.pid);
    let mut samples = Vec::new();
    let mut last_usage: Option<(Instant, Usage)> = usage().map(|u| (Instant::now(), u));

    let start = Instant::now();
    let mut ramp_done_at: Option<Instant> = None;
    let mut next_ramp = start;
    let mut next_sample = start + Duration::from_secs(1);
    let mut events = Events::with_capacity(4096);
    let (rss_full, own_rss_full, kernel_stack_full) = loop {
        let now = Instant::now();
        // Ramp: open the next step of connections.
        while slots.len() < config.connections && now >= next_ramp {
            for _ in 0..config.ramp_count.min(config.connections - slots.len()) {
                let i = slots.len();
                let mut slot = Slot::default();
                match connect_spread(config.target.addr, i) {
                    Ok(mut stream) => {
                        poll.registry().register(
                            &mut stream,
                            Token(i),
                            Interest::READABLE | Interest::WRITABLE,
                        )?;
                        slot.stream = Some(stream);
                        slot.connecting = true;
                    }
                    Err(_) => refused += 1,
                }
                slots.push(slot);
            }
            next_ramp += config.ramp_every;
        }
        if slots.len() == config.connections && ramp_done_at.is_none() {
            ramp_done_at = Some(now);
        }
        if ramp_done_at.is_some_and(|at| now >= at + config.duration) {
            // The held state, read with every connection still open (the
            // end of the hold: the server has settled since the ramp).
            break (
                usage().map(|u| u.rss),
                procfs::own().map(|u| u.rss),
                procfs::kernel_stack(),
            );
        }
        // Due HEADs.
        while let Some(&Reverse((due, i))) = timers.peek() {
            if due > now {
                break;
            }
            timers.pop();
            let slot = &mut slots[i];
            let Some(stream) = slot.stream.as_mut() else {
                continue;
            };
            match stream.write(&request) {
                Ok(n) if n == request.len() => slot.waiting_since = Some(now),
                _ => {
                    // A HEAD is tiny: if it does not fit whole, the connection is not healthy.
                    reset += 1;
                    close(&poll, slot, &mut open);
                }
            }
        }
        // Timeouts, and the once-a-second sample.
        if now >= next_sample {
            for slot in slots.iter_mut() {
                if slot
                    .waiting_since
                    .is_some_and(|since| now - since > config.timeout)
                {
                    timed_out += 1;
                    close(&poll, slot, &mut open);
                }
            }
            let current = usage();
            let cpu_percent = match (current, last_usage) {
                (Some(u), Some((t, last))) => {
                    let wall = (now - t).as_secs_f64().max(1e-9);
                    Some(u.cpu.saturating_sub(last.cpu).as_secs_f64() / wall * 100.0)
                }
                _ => None,
            };
            last_usage = current.map(|u| (now, u));
            let sample = Sample {
                t_s: (now - start).as_secs_f64(),
                open,
                refused,
                reset,
                timed_out,
                requests,
                server_rss: current.map(|u| u.rss),
                server_cpu_percent: cpu_percent,
            };
            on_sample(&sample);
            samples.push(sample);
            next_sample += Duration::from_secs(1);
        }
        let mut wake = next_sample;
        if slots.len() < config.connections {
            wake = wake.min(next_ramp);
        }
        if let Some(Reverse((due, _))) = timers.peek() {
            wake = wake.min(*due);
        }
        wait(
            &mut poll,
            &mut events,
            wake.saturating_duration_since(Instant::now()),
        )?;
        let now = Instant::now();
        for event in events.iter() {
            let i = event.token().0;
            let slot = &mut slots[i];
            let Some(stream) = slot.stream.as_mut() else {
                continue;
            };
            if slot.connecting {
                match connected(stream) {
                    Ok(true) => {
                        slot.connecting = false;
                        open += 1;
                        held_max = held_max.max(open);
                        timers.push(Reverse((now + interval(&mut rng), i)));
                    }
                    Ok(false) => {}
                    Err(_) => {
                        refused += 1;
                        slot.connecting = false;
                        drop_stream(&poll, slot);
                    }
                }
                continue;
            }
            if !(event.is_readable() || event.is_read_closed() || event.is_error()) {
                continue;
            }
            while let Some(stream) = slot.stream.as_mut() {
                match stream.read(&mut buf) {
                    Ok(0) => {
                        reset += 1;
                        close(&poll, slot, &mut open);
                        break;
                    }
                    Ok(n) => {
                        let unasked = slot.waiting_since.is_none();
                        let (mut ok, mut full, mut wrong) = (0, 0, 0);
                        let fed = slot.parser.feed(
                            &buf[..n],
                            || true,
                            |p| match p.status {
                                200 => ok += 1,
                                503 => full += 1,
                                _ => wrong += 1,
                            },
                        );
                        requests += ok;
                        if full > 0 {
                            // 503: the server is at its connection limit and
                            // says so (asked or not): a clean refusal.
                            refused += 1;
                            close(&poll, slot, &mut open);
                            break;
                        }
                        bad += wrong;
                        if fed.is_err() || wrong > 0 || unasked {
                            // A malformed answer, or bytes no HEAD asked for.
                            bad += u64::from(fed.is_err() || unasked);
                            close(&poll, slot, &mut open);
                            break;
                        }
                        if ok > 0 {
                            slot.waiting_since = None;
                            timers.push(Reverse((now + interval(&mut rng), i)));
                        }
                    }
                    Err(err) if would_block(&err) => break,
                    Err(err) if interrupted(&err) => {}
                    Err(_) => {
                        reset += 1;
                        close(&poll, slot, &mut open);
                        break;
                    }
                }
            }
        }
    };
    let totals = meter.stop();
    let client = totals.client();
    let held_at_end = open;
    let per_held = |before: Option<u64>, full: Option<u64>| match (before, full) {
        (Some(before), Some(full)) if held_max > 0 => {
            Some((full as f64 - before as f64) / held_max as f64)
        }
        _ => None,
    };
    let per_connection = per_held(rss_before, rss_full);
    Ok(HoldReport {
        url: format!("http://{}{}", config.target.host, config.target.path),
        target: config.connections,
        held_max,
        held_at_end,
        refused,
        reset,
        timed_out,
        bad_answers: bad,
        requests,
        server_rss_before: rss_before,
        server_rss_full: rss_full,
        server_bytes_per_connection: per_connection,
        bench_peak_rss: procfs::own_peak_rss(),
        bench_rss_full: own_rss_full,
        // The meter's client share, as a percentage: one measurement.
        bench_cpu_percent: Some(client.cpu_share * 100.0),
        kernel_stack_per_connection: per_held(kernel_stack_before, kernel_stack_full),
        server: totals.per(requests, Unit::Request),
        client,
        samples,
    })
}

/// Closes a connection for good (a held connection that failed is not
/// replaced: the report counts how many survive).
fn close(poll: &Poll, slot: &mut Slot, open: &mut usize) {
    if drop_stream(poll, slot) {
        *open = open.saturating_sub(1);
    }
}

/// Deregisters and closes the slot's socket; false if it had none.
fn drop_stream(poll: &Poll, slot: &mut Slot) -> bool {
    slot.waiting_since = None;
    match slot.stream.take() {
        Some(mut stream) => {
            let _ = poll.registry().deregister(&mut stream);
            true
        }
        None => false,
    }
}
