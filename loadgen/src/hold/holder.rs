//! A hold in progress: the ramp, the HEADs on their timers, the samples,
//! and what comes back on each held connection.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use super::{HoldConfig, Sample};
use crate::net::{connect_spread, connected, interrupted, wait, would_block};
use crate::procfs::{self, Usage};
use crate::response::Parser;

/// One held connection: as small as it can be, since there are thousands.
#[derive(Debug, Default)]
pub(super) struct Slot {
    stream: Option<TcpStream>,
    connecting: bool,
    parser: Parser,
    /// When the outstanding HEAD was sent, if one is.
    waiting_since: Option<Instant>,
}

/// A small deterministic generator for the random HEAD intervals.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    fn between(&mut self, low: Duration, high: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let span = high.saturating_sub(low).as_micros().max(1) as u64;
        low + Duration::from_micros(self.0 % span)
    }
}

/// What a hold has counted so far.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Counts {
    pub(super) refused: u64,
    pub(super) reset: u64,
    pub(super) timed_out: u64,
    pub(super) bad: u64,
    pub(super) requests: u64,
    /// Connections open now, and the most at once.
    pub(super) open: usize,
    pub(super) held_max: usize,
}

/// The server's and the bench's memory with every connection held, read at
/// the end of the hold, before any is closed.
pub(super) struct Full {
    pub(super) rss: Option<u64>,
    pub(super) own_rss: Option<u64>,
    pub(super) kernel_stack: Option<u64>,
}

/// A hold in progress: the slots, the timers of their next HEADs, and
/// what has been counted.
pub(super) struct Holder<'a> {
    pub(super) config: &'a HoldConfig,
    pub(super) poll: Poll,
    pub(super) request: Vec<u8>,
    pub(super) slots: Vec<Slot>,
    /// Next HEAD per slot, soonest first.
    pub(super) timers: BinaryHeap<Reverse<(Instant, usize)>>,
    pub(super) rng: Rng,
    /// The read buffer every slot shares.
    pub(super) buf: Vec<u8>,
    pub(super) counts: Counts,
    pub(super) start: Instant,
    pub(super) next_ramp: Instant,
    pub(super) next_sample: Instant,
    /// The server's usage at the last sample, for its CPU since.
    pub(super) last_usage: Option<(Instant, Usage)>,
    pub(super) samples: Vec<Sample>,
}

impl Holder<'_> {
    /// The loop: ramp up, send the HEADs that are due, sample once a
    /// second, and read what comes back, until the hold has lasted its
    /// time after the ramp; then what was held, read before any is closed.
    pub(super) fn hold(&mut self, on_sample: &mut impl FnMut(&Sample)) -> io::Result<Full> {
        let mut ramp_done_at: Option<Instant> = None;
        let mut events = Events::with_capacity(4096);
        loop {
            let now = Instant::now();
            self.ramp(now)?;
            if self.slots.len() == self.config.connections && ramp_done_at.is_none() {
                ramp_done_at = Some(now);
            }
            if ramp_done_at.is_some_and(|at| now >= at + self.config.duration) {
                // The held state, read with every connection still open
                // (the end of the hold: the server has settled since the
                // ramp).
                return Ok(Full {
                    rss: self.config.pid.and_then(procfs::usage).map(|u| u.rss),
                    own_rss: procfs::own().map(|u| u.rss),
                    kernel_stack: procfs::kernel_stack(),
                });
            }
            self.send_due(now);
            if now >= self.next_sample {
                self.time_out(now);
                let sample = self.sample(now);
                on_sample(&sample);
                self.samples.push(sample);
                self.next_sample += Duration::from_secs(1);
            }
            let wake = self.wake();
            wait(
                &mut self.poll,
                &mut events,
                wake.saturating_duration_since(Instant::now()),
            )?;
            let now = Instant::now();
            for event in events.iter() {
                self.on_event(event, now);
            }
        }
    }

    /// Opens the ramp's steps that are due.
    fn ramp(&mut self, now: Instant) -> io::Result<()> {
        let config = self.config;
        while self.slots.len() < config.connections && now >= self.next_ramp {
            for _ in 0..config.ramp_count.min(config.connections - self.slots.len()) {
                let i = self.slots.len();
                let mut slot = Slot::default();
                match connect_spread(config.target.addr, i) {
                    Ok(mut stream) => {
                        self.poll.registry().register(
                            &mut stream,
                            Token(i),
                            Interest::READABLE | Interest::WRITABLE,
                        )?;
                        slot.stream = Some(stream);
                        slot.connecting = true;
                    }
                    Err(_) => self.counts.refused += 1,
                }
                self.slots.push(slot);
            }
            self.next_ramp += config.ramp_every;
        }
        Ok(())
    }

    /// Sends the HEADs that are due.
    fn send_due(&mut self, now: Instant) {
        while let Some(&Reverse((due, i))) = self.timers.peek() {
            if due > now {
                break;
            }
            self.timers.pop();
            let slot = &mut self.slots[i];
            let Some(stream) = slot.stream.as_mut() else {
                continue;
            };
            match stream.write(&self.request) {
                Ok(n) if n == self.request.len() => slot.waiting_since = Some(now),
                _ => {
                    // A HEAD is tiny: if it does not fit whole, the
                    // connection is not healthy.
                    self.counts.reset += 1;
                    close(&self.poll, slot, &mut self.counts.open);
                }
            }
        }
    }

    /// Closes the connections whose HEAD has waited past the timeout.
    fn time_out(&mut self, now: Instant) {
        for slot in self.slots.iter_mut() {
            if slot
                .waiting_since
                .is_some_and(|since| now - since > self.config.timeout)
            {
                self.counts.timed_out += 1;
                close(&self.poll, slot, &mut self.counts.open);
            }
        }
    }

    /// The once-a-second sample: the counts, and the server's memory and
    /// CPU since the last one.
    fn sample(&mut self, now: Instant) -> Sample {
        let current = self.config.pid.and_then(procfs::usage);
        let cpu_percent = match (current, self.last_usage) {
            (Some(u), Some((t, last))) => {
                let wall = (now - t).as_secs_f64().max(1e-9);
                Some(u.cpu.saturating_sub(last.cpu).as_secs_f64() / wall * 100.0)
            }
            _ => None,
        };
        self.last_usage = current.map(|u| (now, u));
        let c = self.counts;
        Sample {
            t_s: (now - self.start).as_secs_f64(),
            open: c.open,
            refused: c.refused,
            reset: c.reset,
            timed_out: c.timed_out,
            requests: c.requests,
            server_rss: current.map(|u| u.rss),
            server_cpu_percent: cpu_percent,
        }
    }

    /// When to wake: the next sample, ramp step or HEAD.
    fn wake(&self) -> Instant {
        let mut wake = self.next_sample;
        if self.slots.len() < self.config.connections {
            wake = wake.min(self.next_ramp);
        }
        if let Some(Reverse((due, _))) = self.timers.peek() {
            wake = wake.min(*due);
        }
        wake
    }

    /// A time until the next HEAD, at random.
    fn interval(&mut self) -> Duration {
        self.rng.between(
            Duration::from_secs(1),
            (self.config.keepalive / 2).max(Duration::from_secs(1)),
        )
    }

    /// A slot's event: its connect done (or failed), or answers to read.
    fn on_event(&mut self, event: &mio::event::Event, now: Instant) {
        let i = event.token().0;
        let slot = &mut self.slots[i];
        let Some(stream) = slot.stream.as_mut() else {
            return;
        };
        if slot.connecting {
            match connected(stream) {
                Ok(true) => {
                    slot.connecting = false;
                    self.counts.open += 1;
                    self.counts.held_max = self.counts.held_max.max(self.counts.open);
                    let next = now + self.interval();
                    self.timers.push(Reverse((next, i)));
                }
                Ok(false) => {}
                Err(_) => {
                    self.counts.refused += 1;
                    slot.connecting = false;
                    drop_stream(&self.poll, slot);
                }
            }
            return;
        }
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            self.read(i, now);
        }
    }

    /// Reads slot `i` until EAGAIN: each answer must be a 200 to a HEAD it
    /// sent; a 503 is the server refusing cleanly; anything else closes it.
    fn read(&mut self, i: usize, now: Instant) {
        loop {
            let slot = &mut self.slots[i];
            let Some(stream) = slot.stream.as_mut() else {
                return;
            };
            let n = match stream.read(&mut self.buf) {
                Ok(0) => {
                    self.counts.reset += 1;
                    close(&self.poll, slot, &mut self.counts.open);
                    return;
                }
                Ok(n) => n,
                Err(err) if would_block(&err) => return,
                Err(err) if interrupted(&err) => continue,
                Err(_) => {
                    self.counts.reset += 1;
                    close(&self.poll, slot, &mut self.counts.open);
                    return;
                }
            };
            let unasked = slot.waiting_since.is_none();
            let (mut ok, mut full, mut wrong) = (0, 0, 0);
            let fed = slot.parser.feed(
                &self.buf[..n],
                || true,
                |p| match p.status {
                    200 => ok += 1,
                    503 => full += 1,
                    _ => wrong += 1,
                },
            );
            self.counts.requests += ok;
            if full > 0 {
                // 503: the server is at its connection limit and says so
                // (asked or not): a clean refusal.
                self.counts.refused += 1;
                close(&self.poll, slot, &mut self.counts.open);
                return;
            }
            self.counts.bad += wrong;
            if fed.is_err() || wrong > 0 || unasked {
                // A malformed answer, or bytes no HEAD asked for.
                self.counts.bad += u64::from(fed.is_err() || unasked);
                close(&self.poll, slot, &mut self.counts.open);
                return;
            }
            if ok > 0 {
                slot.waiting_since = None;
                let next = now + self.interval();
                self.timers.push(Reverse((next, i)));
            }
        }
    }
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
