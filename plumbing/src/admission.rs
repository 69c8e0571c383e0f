//! Who gets in: `--max-conns` counted across every thread ([`Places`]),
//! and turning a client away at the limit ([`refuse`]) with a clear answer
//! instead of a hang. Shared by every model: the rule is the contract's, not
//! a model's. (An event loop's [`admit`](crate::conn::admit), which also
//! checks the fd its wait can watch, makes a [`Conn`](crate::conn::Conn)
//! and so lives beside it.)

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use protocol::{Connection, Service};

use crate::trace;

// ANCHOR: places
/// `--max-conns`, counted across every thread of a server: a place is taken
/// when a connection is admitted and given back when it is dropped (a
/// [`Conn`](crate::conn::Conn) holds its [`Place`]).
/// One shared counter is all the threads of `epoll --workers N` share, so
/// the flag means the same with one worker or many.
#[derive(Debug, Clone)]
pub struct Places {
    /// Connections now open, over all threads.
    taken: Arc<AtomicUsize>,
    /// `--max-conns`.
    max: usize,
}

/// One connection's place under `--max-conns`; dropping it frees the place.
#[derive(Debug)]
pub struct Place(Arc<AtomicUsize>);

impl Places {
    /// Room for `max` connections at once.
    pub fn new(max: usize) -> Places {
        Places {
            taken: Arc::new(AtomicUsize::new(0)),
            max,
        }
    }

    /// A place, or `None` when all `max` are taken.
    pub fn take(&self) -> Option<Place> {
        let before = self.taken.fetch_add(1, Ordering::Relaxed);
        if before >= self.max {
            self.taken.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some(Place(self.taken.clone()))
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
// ANCHOR_END: places

// ANCHOR: refuse
/// Turns away a connection the server will not serve (over `--max-conns`, or
/// an fd that `select` cannot watch): over HTTP one `503 Service
/// Unavailable` with `Connection: close`, over echo just the close. It never
/// blocks the loop: non-blocking writes of a response that fits in any
/// empty send buffer, then the close. What the client has sent so far is
/// read first: closing a socket with unread input sends a reset instead of a
/// FIN, and a reset can destroy the 503 before the client reads it. (Bytes
/// that arrive after the close still draw a reset; by then the client has
/// the 503 and the FIN.)
pub fn refuse(stream: TcpStream, service: &Arc<Service>, why: &str) {
    let fd = stream.as_raw_fd();
    trace!("refuse fd={fd}: {why}");
    let mut answer = Connection::refused(service.clone(), Instant::now());
    if stream.set_nonblocking(true).is_err() {
        return;
    }
    // The protocol hands out the head, then the body once the head is
    // sent: write until it has nothing left. All of it (under 300 bytes)
    // fits in an empty send buffer, so this ends at once; on EAGAIN or an
    // error it gives up rather than wait.
    while answer.wants_write() {
        match (&stream).write(answer.output()) {
            Ok(n) if n > 0 => answer.sent(n, Instant::now()),
            Ok(_) => break,
            Err(err) => {
                trace!("write fd={fd}: {err} (refusing)");
                break;
            }
        }
    }
    let _ = stream.shutdown(Shutdown::Write);
    let mut scratch = [0u8; 4096];
    while let Ok(n) = (&stream).read(&mut scratch) {
        if n == 0 {
            break;
        }
    }
    trace!("close fd={fd}");
}
// ANCHOR_END: refuse
