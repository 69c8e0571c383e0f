//! One thread of `bench load`: its event loop over its slots, opening,
//! reconnecting and timing them out; what goes over each connection is in
//! `traffic`.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use super::{LoadConfig, Shared, Stop};
use crate::net::{connect, connected, wait_spinning};
use crate::response::Parser;
use crate::stats::{Errors, histogram};

mod traffic;

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
pub(super) struct Slot {
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
    pub(super) completed: u64,
    /// No more requests to claim (`-n` ran out): the slot stays closed.
    done: bool,
    /// A failed connect is retried after a pause, not in a tight loop.
    retry_at: Option<Instant>,
}

/// One thread's event loop and its counts.
pub(super) struct Worker<'a> {
    config: &'a LoadConfig,
    shared: &'a Shared,
    poll: Poll,
    pub(super) slots: Vec<Slot>,
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
    pub(super) histogram: Histogram<u64>,
    pub(super) errors: Errors,
    pub(super) requests: u64,
    pub(super) bytes: u64,
}

/// How often timeouts and connect retries are checked.
const TICK: Duration = Duration::from_millis(20);
/// How long the loop polls without sleeping after a wake-up that brought
/// events, before it blocks in `epoll_wait` (see `net::wait_spinning`).
const SPIN: Duration = Duration::from_micros(50);
/// Pause before retrying a connect that failed at once (EMFILE, EADDRNOTAVAIL).
const RETRY: Duration = Duration::from_millis(10);

impl<'a> Worker<'a> {
    pub(super) fn new(
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

    pub(super) fn run(&mut self) -> io::Result<()> {
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
