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

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use serde::Serialize;

use crate::cost::{Client, Costs, Meter, Unit};
use crate::net::{connect, connected, interrupted, wait_spinning, would_block};
use crate::response::{Parsed, Parser};
use crate::stats::{Errors, Percentiles, histogram, record};
use crate::target::Target;

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

/// A request on the wire: when its latency clock started, and when it was sent.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    /// Latency origin: the send time, the planned time (`--rate`), or the
    /// connect time (`--no-keepalive`, where the connect is part of the cost).
    origin: Instant,
    /// When it was written: the timeout counts from here.
    sent: Instant,
}

/// One connection slot. It keeps its place (and its count) across reconnects.
#[derive(Debug, Default)]
struct Slot {
    /// The socket, if open.
    stream: Option<TcpStream>,
    /// Set while a connect is in progress.
    connecting_since: Option<Instant>,
    /// Response parsing state.
    parser: Parser,
    /// Requests sent and not yet answered, oldest first.
    in_flight: VecDeque<InFlight>,
    /// Bytes of the current request batch already written.
    written: usize,
    /// Whether part of the batch is still to be written.
    writing: bool,
    /// Successful requests on this slot.
    completed: u64,
    /// No more requests to claim (`-n` ran out): the slot stays closed.
    done: bool,
    /// A failed connect is retried after a pause, not in a tight loop.
    retry_at: Option<Instant>,
}

/// One thread's event loop and its counts.
struct Worker<'a> {
    config: &'a LoadConfig,
    shared: &'a Shared,
    poll: Poll,
    slots: Vec<Slot>,
    /// The read buffer all slots share: a read is consumed before the next.
    buf: Vec<u8>,
    /// One batch of requests (`pipeline` copies), written as one.
    batch: Vec<u8>,
    /// Start of the run: the zero of the `--rate` schedule.
    start: Instant,
    /// `--rate`: time between this thread's planned sends.
    interval: Option<Duration>,
    /// `--rate`: index of the next planned send.
    next_planned: u64,
    /// `--rate`: slots connected and waiting for their next planned send.
    idle: Vec<usize>,
    histogram: Histogram<u64>,
    errors: Errors,
    requests: u64,
    bytes: u64,
}

/// How often timeouts and connect retries are checked.
const TICK: Duration = Duration::from_millis(20);
/// How long the loop polls without sleeping after a wake-up that brought
/// events, before it blocks in `epoll_wait` (see `net::wait_spinning`).
const SPIN: Duration = Duration::from_micros(50);
/// Pause before retrying a connect that failed at once (EMFILE, EADDRNOTAVAIL).
const RETRY: Duration = Duration::from_millis(10);

impl<'a> Worker<'a> {
    fn new(
        config: &'a LoadConfig,
        slots: usize,
        threads: usize,
        shared: &'a Shared,
        start: Instant,
    ) -> io::Result<Self> {
        let method = if config.head { "HEAD" } else { "GET" };
        let one = config.target.request(method, !config.keepalive);
        let batch = one.repeat(config.pipeline.max(1));
        let interval = config
            .rate
            .map(|rate| Duration::from_secs_f64(threads as f64 / rate.max(1e-9)));
        Ok(Worker {
            config,
            shared,
            poll: Poll::new()?,
            slots: (0..slots).map(|_| Slot::default()).collect(),
            buf: vec![0; 64 * 1024],
            batch,
            start,
            interval,
            next_planned: 0,
            idle: Vec::new(),
            histogram: histogram(),
            errors: Errors::default(),
            requests: 0,
            bytes: 0,
        })
    }

    fn run(&mut self) -> io::Result<()> {
        for i in 0..self.slots.len() {
            self.open(i, Instant::now());
        }
        let mut events = Events::with_capacity(1024);
        let mut next_tick = Instant::now() + TICK;
        loop {
            let now = Instant::now();
            if self.finished(now) {
                return Ok(());
            }
            let mut wake = next_tick;
            if let Stop::After(d) = self.config.stop {
                wake = wake.min(self.start + d);
            }
            if let (Some(planned), false) = (self.planned(), self.idle.is_empty()) {
                wake = wake.min(planned);
            }
            // Right after a batch of answers more are likely on the way:
            // poll for a moment before sleeping (see `wait_spinning`).
            let spin = if events.is_empty() {
                Duration::ZERO
            } else {
                SPIN
            };
            wait_spinning(
                &mut self.poll,
                &mut events,
                spin,
                wake.saturating_duration_since(now),
            )?;
            for event in events.iter() {
                let i = event.token().0;
                if i < self.slots.len() {
                    let closed = event.is_read_closed() || event.is_error();
                    self.on_event(
                        i,
                        event.is_writable(),
                        event.is_readable() || closed,
                        closed,
                    );
                }
            }
            let now = Instant::now();
            self.send_planned(now);
            if now >= next_tick {
                self.check_timeouts(now);
                next_tick = now + TICK;
            }
        }
    }

    /// Whether the run is over for this thread.
    fn finished(&self, now: Instant) -> bool {
        match self.config.stop {
            Stop::After(d) => now >= self.start + d,
            Stop::Requests(_) => self.slots.iter().all(|s| s.done),
        }
    }

    /// Claims `n` requests under `-n`; false when there are none left.
    fn claim(&self, n: u64) -> bool {
        match self.config.stop {
            Stop::After(_) => true,
            Stop::Requests(total) => {
                self.shared.claimed.fetch_add(n, Ordering::Relaxed) + n <= total
            }
        }
    }

    fn open(&mut self, i: usize, now: Instant) {
        let slot = &mut self.slots[i];
        slot.retry_at = None;
        match connect(self.config.target.addr) {
            Ok(mut stream) => {
                let registered = self.poll.registry().register(
                    &mut stream,
                    Token(i),
                    Interest::READABLE | Interest::WRITABLE,
                );
                if registered.is_ok() {
                    slot.stream = Some(stream);
                    slot.connecting_since = Some(now);
                    return;
                }
                self.connect_failed(i, now);
            }
            Err(_) => self.connect_failed(i, now),
        }
    }

    fn connect_failed(&mut self, i: usize, now: Instant) {
        let slot = &mut self.slots[i];
        slot.stream = None;
        slot.connecting_since = None;
        // A failed connect uses up a request under -n, so a dead server ends
        // the run; once none are left, a failure is no request's and not counted.
        if !self.claim(1) {
            self.slots[i].done = true;
            return;
        }
        self.errors.connect += 1;
        self.shared.finished.fetch_add(1, Ordering::Relaxed);
        self.slots[i].retry_at = Some(now + RETRY);
    }

    /// Closes slot `i`, dropping what was in flight (the caller has counted
    /// it), and reconnects unless the slot is done.
    fn reopen(&mut self, i: usize, now: Instant) {
        let slot = &mut self.slots[i];
        if let Some(mut stream) = slot.stream.take() {
            let _ = self.poll.registry().deregister(&mut stream);
        }
        slot.in_flight.clear();
        slot.parser = Parser::default();
        slot.writing = false;
        slot.connecting_since = None;
        self.idle.retain(|&s| s != i);
        if !slot.done {
            self.open(i, now);
        }
    }

    /// Fails every request in flight on slot `i` as one kind of error, then reopens.
    fn fail(&mut self, i: usize, kind: fn(&mut Errors) -> &mut u64, now: Instant) {
        let n = self.slots[i].in_flight.len() as u64;
        *kind(&mut self.errors) += n;
        self.shared.finished.fetch_add(n, Ordering::Relaxed);
        self.reopen(i, now);
    }

    /// `closed`: the event already reports the peer's EOF (or an error), so
    /// reading must go on until read() says so: no later edge will.
    fn on_event(&mut self, i: usize, writable: bool, readable: bool, closed: bool) {
        let now = Instant::now();
        if self.slots[i].connecting_since.is_some() {
            let Some(stream) = &self.slots[i].stream else {
                return;
            };
            match connected(stream) {
                Ok(true) => {
                    self.slots[i].connecting_since = None;
                    self.on_connected(i, now);
                }
                Ok(false) => return, // spurious wake-up: still connecting
                Err(_) => {
                    self.slots[i].stream = None;
                    self.connect_failed(i, now);
                    return;
                }
            }
        }
        if writable && self.slots[i].writing {
            self.flush(i, now);
        }
        if readable && self.slots[i].stream.is_some() {
            self.read(i, closed, now);
        }
    }

    fn on_connected(&mut self, i: usize, now: Instant) {
        if self.interval.is_some() {
            self.idle.push(i);
            self.send_planned(now);
        } else {
            self.send(i, now, now);
        }
    }

    /// Sends the next batch on slot `i`, with `origin` as the latency clock's start.
    fn send(&mut self, i: usize, origin: Instant, now: Instant) {
        let n = self.config.pipeline.max(1) as u64;
        if !self.claim(n) {
            self.slots[i].done = true;
            self.reopen(i, now);
            return;
        }
        let slot = &mut self.slots[i];
        for _ in 0..n {
            slot.in_flight.push_back(InFlight { origin, sent: now });
        }
        slot.written = 0;
        slot.writing = true;
        self.flush(i, now);
    }

    /// `--rate`: gives every planned send that is due to an idle slot.
    fn send_planned(&mut self, now: Instant) {
        while let Some(planned) = self.planned() {
            if planned > now {
                break;
            }
            let Some(i) = self.idle.pop() else { break };
            self.next_planned += 1;
            // No-keepalive under --rate: the connect happened before the plan.
            self.send(i, planned, now);
        }
    }

    /// `--rate`: the time of the next planned send.
    fn planned(&self) -> Option<Instant> {
        let interval = self.interval?;
        Some(self.start + interval.mul_f64(self.next_planned as f64))
    }

    fn flush(&mut self, i: usize, now: Instant) {
        let slot = &mut self.slots[i];
        let Some(stream) = slot.stream.as_mut() else {
            return;
        };
        while slot.written < self.batch.len() {
            match stream.write(&self.batch[slot.written..]) {
                Ok(n) => slot.written += n,
                Err(err) if would_block(&err) => return, // the rest on the next writable event
                Err(err) if interrupted(&err) => {}
                Err(_) => return self.fail(i, |e| &mut e.write, now),
            }
        }
        slot.writing = false;
    }

    fn read(&mut self, i: usize, closed: bool, now: Instant) {
        loop {
            let Some(stream) = self.slots[i].stream.as_mut() else {
                return;
            };
            let n = match stream.read(&mut self.buf) {
                Ok(0) => return self.on_eof(i, now),
                Ok(n) => n,
                Err(err) if would_block(&err) => return,
                Err(err) if interrupted(&err) => continue,
                Err(_) => {
                    // A reset: what was in flight is lost. On an idle
                    // connection it is no request's failure: just reconnect.
                    return self.fail(i, |e| &mut e.read, now);
                }
            };
            self.bytes += n as u64;
            if !self.on_bytes(i, n, now) {
                return;
            }
            if n < self.buf.len() && !closed {
                // A short read on a stream socket emptied the receive queue:
                // no need for one more read() just to be told EAGAIN. Not
                // when the event said EOF: that EOF has no edge of its own to
                // come, so it must be read now.
                return;
            }
        }
    }

    /// Handles `n` bytes in `buf` for slot `i`; false when the slot was reopened.
    fn on_bytes(&mut self, i: usize, n: usize, now: Instant) -> bool {
        let head = self.config.head;
        let slot = &mut self.slots[i];
        let (mut ok, mut bad_status, mut unasked, mut close) = (0u64, 0u64, false, false);
        let histogram = &mut self.histogram;
        let in_flight = &mut slot.in_flight;
        let result = slot.parser.feed(
            &self.buf[..n],
            || head,
            |parsed: Parsed| match in_flight.pop_front() {
                None => unasked = true,
                Some(request) => {
                    if parsed.status == 200 {
                        record(histogram, now - request.origin);
                        ok += 1;
                    } else {
                        bad_status += 1;
                    }
                    close |= parsed.close;
                }
            },
        );
        slot.completed += ok;
        self.requests += ok;
        self.errors.status += bad_status;
        self.shared
            .finished
            .fetch_add(ok + bad_status, Ordering::Relaxed);
        let slot = &self.slots[i];
        if result.is_err() {
            // A malformed head: this request is a status error, the rest are lost with it.
            self.errors.status += 1;
            self.shared.finished.fetch_add(1, Ordering::Relaxed);
            self.slots[i].in_flight.pop_front();
            self.fail(i, |e| &mut e.read, now);
            return false;
        }
        if unasked || (slot.in_flight.is_empty() && slot.parser.mid_response()) {
            // Bytes no request asked for: a body longer than its Content-Length.
            self.errors.body += 1;
            self.fail(i, |e| &mut e.read, now);
            return false;
        }
        if !slot.in_flight.is_empty() {
            return true; // more answers to come
        }
        if close || !self.config.keepalive {
            self.reopen(i, now);
            return false;
        }
        if self.interval.is_some() {
            self.idle.push(i);
        } else {
            self.send(i, now, now);
        }
        true
    }

    fn on_eof(&mut self, i: usize, now: Instant) {
        let slot = &mut self.slots[i];
        if slot.parser.mid_response() && !slot.in_flight.is_empty() {
            // EOF inside a response: shorter than its Content-Length.
            slot.in_flight.pop_front();
            self.errors.body += 1;
            self.shared.finished.fetch_add(1, Ordering::Relaxed);
        }
        // Requests still unanswered at EOF failed as reads; an idle
        // keep-alive connection closed by the server is no failure.
        self.fail(i, |e| &mut e.read, now);
    }

    fn check_timeouts(&mut self, now: Instant) {
        let timeout = self.config.timeout;
        for i in 0..self.slots.len() {
            let slot = &self.slots[i];
            if slot.retry_at.is_some_and(|at| now >= at) {
                self.open(i, now);
            } else if slot
                .connecting_since
                .is_some_and(|since| now - since > timeout)
            {
                // A connect that never completes (a full backlog drops SYNs)
                // uses up a request, like a failed one.
                if self.claim(1) {
                    self.errors.timeout += 1;
                    self.shared.finished.fetch_add(1, Ordering::Relaxed);
                } else {
                    self.slots[i].done = true;
                }
                self.reopen(i, now);
            } else if slot
                .in_flight
                .front()
                .is_some_and(|r| now - r.sent > timeout)
            {
                self.fail(i, |e| &mut e.timeout, now);
            }
        }
    }
}
