//! `bench echo`: each connection sends a message, waits for every byte of it
//! back (however the server splits it: a short read is not a failure),
//! compares, and sends the next. Messages differ from one to the next, so a
//! server that mixed up or reordered bytes is caught as a mismatch.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use serde::Serialize;

use crate::cost::{Client, Costs, Meter, Unit};
use crate::net::{connect, connected, interrupted, wait, would_block};
use crate::stats::{Errors, Percentiles, histogram, record};

/// What `bench echo` was asked to do.
#[derive(Debug, Clone)]
pub struct EchoConfig {
    /// The echo server.
    pub addr: SocketAddr,
    /// Concurrent connections.
    pub connections: usize,
    /// Bytes per message.
    pub size: usize,
    /// How long to run.
    pub duration: Duration,
    /// How long a message may take to come back.
    pub timeout: Duration,
    /// The server's PID (`--pid`): count what it costs per message.
    pub pid: Option<u32>,
}

/// The result; `--json` prints it with these field names.
#[derive(Debug, Clone, Serialize)]
pub struct EchoReport {
    /// The server address.
    pub addr: String,
    /// Connections.
    pub connections: usize,
    /// Bytes per message.
    pub size: usize,
    /// Wall-clock length, seconds.
    pub elapsed_s: f64,
    /// Messages that came back whole and identical.
    pub messages: u64,
    /// `messages / elapsed_s`.
    pub messages_per_s: f64,
    /// Bytes echoed back per second, 10^6.
    pub mb_per_s: f64,
    /// Round-trip latency per message.
    pub latency: Percentiles,
    /// Messages that came back different.
    pub mismatches: u64,
    /// Failures by kind (`status` and `body` stay 0 here).
    pub errors: Errors,
    /// What the server (`--pid`) cost per message, counted by the kernel.
    pub server: Costs,
    /// The bench's own share of a core.
    pub client: Client,
}

/// One connection.
#[derive(Debug, Default)]
struct Slot {
    stream: Option<TcpStream>,
    connecting: bool,
    /// Which message this is: it seeds the message's bytes.
    serial: u64,
    /// Bytes of the message written so far.
    written: usize,
    /// Bytes of the answer received so far.
    received: usize,
    /// Whether the answer so far matches.
    intact: bool,
    /// When the message was first written.
    sent: Option<Instant>,
}

/// Byte `i` of message `serial`.
fn message_byte(serial: u64, i: usize) -> u8 {
    (serial
        .wrapping_mul(31)
        .wrapping_add(i as u64)
        .wrapping_mul(2_654_435_761)
        >> 16) as u8
}

/// The echo load in progress: the slots and what has been counted.
struct Echoer<'a> {
    config: &'a EchoConfig,
    poll: Poll,
    slots: Vec<Slot>,
    errors: Errors,
    histogram: Histogram<u64>,
    messages: u64,
    mismatches: u64,
    /// The current message of the slot being written.
    message: Vec<u8>,
    /// The read buffer every slot shares.
    buf: Vec<u8>,
}

/// Runs the echo load on one thread (echo is rarely bench-bound: every
/// message waits a whole round trip).
pub fn run(config: &EchoConfig) -> io::Result<EchoReport> {
    let mut echoer = Echoer {
        config,
        poll: Poll::new()?,
        slots: (0..config.connections).map(|_| Slot::default()).collect(),
        errors: Errors::default(),
        histogram: histogram(),
        messages: 0,
        mismatches: 0,
        message: vec![0u8; config.size],
        buf: vec![0u8; 64 * 1024],
    };
    let meter = Meter::start(config.pid);
    let start = Instant::now();
    for i in 0..config.connections {
        echoer.open(i);
    }
    let mut events = Events::with_capacity(1024);
    while start.elapsed() < config.duration {
        let timeout =
            Duration::from_millis(20).min(config.duration.saturating_sub(start.elapsed()));
        wait(&mut echoer.poll, &mut events, timeout)?;
        let now = Instant::now();
        for event in events.iter() {
            echoer.on_event(event.token().0, now);
        }
        echoer.check(now);
    }
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    let totals = meter.stop();
    let Echoer {
        messages,
        mismatches,
        errors,
        histogram,
        ..
    } = echoer;
    Ok(EchoReport {
        addr: config.addr.to_string(),
        connections: config.connections,
        size: config.size,
        elapsed_s: elapsed,
        messages,
        messages_per_s: messages as f64 / elapsed,
        mb_per_s: (messages * config.size as u64) as f64 / elapsed / 1e6,
        latency: Percentiles::of(&histogram),
        mismatches,
        errors,
        server: totals.per(messages, Unit::Message),
        client: totals.client(),
    })
}

impl Echoer<'_> {
    /// (Re)opens slot `i`.
    fn open(&mut self, i: usize) {
        open(
            &self.poll,
            &mut self.slots[i],
            i,
            self.config.addr,
            &mut self.errors,
        );
    }

    /// Slot `i` is ready: finish its connect, write what is left of its
    /// message, and read what has come back.
    fn on_event(&mut self, i: usize, now: Instant) {
        let slot = &mut self.slots[i];
        let Some(stream) = slot.stream.as_ref() else {
            return;
        };
        if slot.connecting {
            match connected(stream) {
                Ok(true) => slot.connecting = false,
                Ok(false) => return,
                Err(_) => {
                    self.errors.connect += 1;
                    return self.open(i);
                }
            }
        }
        // Write what is left of the current message.
        if slot.sent.is_none() {
            slot.sent = Some(now);
        }
        if slot.written < self.config.size {
            fill(&mut self.message, slot.serial);
            if let Err(kind) = write_rest(slot, &self.message) {
                *kind(&mut self.errors) += 1;
                return self.open(i);
            }
        }
        self.read(i, now);
    }

    /// Reads slot `i` until EAGAIN, comparing as it comes; a whole message
    /// back is counted, and the next one sent.
    fn read(&mut self, i: usize, now: Instant) {
        let size = self.config.size;
        loop {
            let slot = &mut self.slots[i];
            let Some(stream) = slot.stream.as_mut() else {
                return;
            };
            let n = match stream.read(&mut self.buf[..(size - slot.received).min(64 * 1024)]) {
                Ok(0) => {
                    self.errors.read += 1;
                    return self.open(i);
                }
                Ok(n) => n,
                Err(err) if would_block(&err) => return,
                Err(err) if interrupted(&err) => continue,
                Err(_) => {
                    self.errors.read += 1;
                    return self.open(i);
                }
            };
            let offset = slot.received;
            slot.intact &= self.buf[..n]
                .iter()
                .enumerate()
                .all(|(k, &b)| b == message_byte(slot.serial, offset + k));
            slot.received += n;
            if slot.received < size {
                continue;
            }
            if slot.intact {
                self.messages += 1;
                record(&mut self.histogram, now - slot.sent.unwrap_or(now));
            } else {
                self.mismatches += 1;
            }
            next_message(slot);
            slot.sent = Some(now);
            fill(&mut self.message, slot.serial);
            if let Err(kind) = write_rest(slot, &self.message) {
                *kind(&mut self.errors) += 1;
                return self.open(i);
            }
        }
    }

    /// Retries the failed connects, and reopens the slots whose message has
    /// waited past the timeout.
    fn check(&mut self, now: Instant) {
        for i in 0..self.slots.len() {
            let slot = &self.slots[i];
            if slot.stream.is_none() {
                self.open(i); // retry a failed connect
            } else if slot
                .sent
                .is_some_and(|sent| now - sent > self.config.timeout)
            {
                self.errors.timeout += 1;
                self.open(i);
            }
        }
    }
}

fn fill(message: &mut [u8], serial: u64) {
    for (i, b) in message.iter_mut().enumerate() {
        *b = message_byte(serial, i);
    }
}

fn next_message(slot: &mut Slot) {
    slot.serial += 1;
    slot.written = 0;
    slot.received = 0;
    slot.intact = true;
}

/// Writes the unwritten part of the message; `Err` names the error kind.
fn write_rest(slot: &mut Slot, message: &[u8]) -> Result<(), fn(&mut Errors) -> &mut u64> {
    let Some(stream) = slot.stream.as_mut() else {
        return Ok(());
    };
    while slot.written < message.len() {
        match stream.write(&message[slot.written..]) {
            Ok(n) => slot.written += n,
            Err(err) if would_block(&err) => return Ok(()),
            Err(err) if interrupted(&err) => {}
            Err(_) => return Err(|e| &mut e.write),
        }
    }
    Ok(())
}

/// (Re)connects slot `i`, starting a fresh message.
fn open(poll: &Poll, slot: &mut Slot, i: usize, addr: SocketAddr, errors: &mut Errors) {
    if let Some(mut old) = slot.stream.take() {
        let _ = poll.registry().deregister(&mut old);
    }
    next_message(slot);
    slot.sent = None;
    match connect(addr) {
        Ok(mut stream) => {
            if poll
                .registry()
                .register(
                    &mut stream,
                    Token(i),
                    Interest::READABLE | Interest::WRITABLE,
                )
                .is_ok()
            {
                slot.stream = Some(stream);
                slot.connecting = true;
            } else {
                errors.connect += 1;
            }
        }
        Err(_) => errors.connect += 1,
    }
}
