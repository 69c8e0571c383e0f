//! What goes over a slot's connection: the requests sent (on a schedule
//! with `--rate`), written out, and the answers read and checked.

use std::io::{Read, Write};
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{InFlight, Worker};
use crate::net::{interrupted, would_block};
use crate::response::Parsed;
use crate::stats::record;

impl Worker<'_> {
    pub(super) fn send(&mut self, i: usize, origin: Instant, now: Instant) {
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
    pub(super) fn send_planned(&mut self, now: Instant) {
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
    pub(super) fn planned(&self) -> Option<Instant> {
        let interval = self.interval?;
        Some(self.start + interval.mul_f64(self.next_planned as f64))
    }

    pub(super) fn flush(&mut self, i: usize, now: Instant) {
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

    pub(super) fn read(&mut self, i: usize, closed: bool, now: Instant) {
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
    pub(super) fn on_bytes(&mut self, i: usize, n: usize, now: Instant) -> bool {
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
        let leftover = result.is_err() || slot.parser.mid_response();
        if unasked || (slot.in_flight.is_empty() && leftover) {
            // Bytes no request asked for (whether or not they parse as a
            // head): a body longer than its Content-Length.
            self.errors.body += 1;
            self.fail(i, |e| &mut e.read, now);
            return false;
        }
        if result.is_err() {
            // A malformed head: this request is a status error, the rest are lost with it.
            self.errors.status += 1;
            self.shared.finished.fetch_add(1, Ordering::Relaxed);
            self.slots[i].in_flight.pop_front();
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

    pub(super) fn on_eof(&mut self, i: usize, now: Instant) {
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
}
