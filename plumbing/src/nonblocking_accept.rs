//! The listening socket of an event loop: non-blocking, so `accept` returns
//! EAGAIN instead of waiting when the backlog is empty, with a spare fd for
//! the day the process runs out of them. [`Acceptor::accept`] makes one
//! `accept(2)` and says what came of it ([`Accept`]); each model loops over
//! it in its own file ("accept until EAGAIN": one readiness report can stand
//! for many clients, and an edge-triggered wait reports none of them again).

use std::fs::File;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use protocol::Service;

use crate::admission::refuse;
use crate::{shutdown, trace, would_block};

/// What one [`Acceptor::accept`] did.
#[derive(Debug)]
pub enum Accept {
    /// A new client.
    Client(TcpStream),
    /// The process was out of fds: a waiting client was taken into the
    /// spare fd and refused (503). More may be waiting: accept again.
    Refused,
    /// EAGAIN: the backlog is empty. (Also after another process or thread
    /// took the client first: a spurious wake-up.)
    WouldBlock,
    /// Accepting stopped for now: out of fds with no spare left, another
    /// failure (ENOBUFS, ENOMEM), or the listener shut down for shutdown.
    /// [`Acceptor::wants_accept`] says when to watch the listener again.
    Paused,
}

// ANCHOR: acceptor
/// The listening socket of an event loop, with its reserve fd.
#[derive(Debug)]
pub struct Acceptor {
    listener: TcpListener,
    /// For the 503 of a client refused when the process is out of fds.
    service: Arc<Service>,
    /// A spare fd (`/dev/null`), held only to be closed when `accept` fails
    /// with EMFILE: see [`Acceptor::refuse_with_reserve`].
    reserve: Option<File>,
    /// Without a reserve (another thread took the freed fd) the listener is
    /// left out of the wait until this time.
    paused_until: Option<Instant>,
}

/// The listener's fd: what a wait call watches (select's `FdSet`, epoll's
/// interest list, `async_await`'s `Async`).
impl AsFd for Acceptor {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }
}

/// Held while accepting: see [`Acceptor::accept`].
static ACCEPTING: Mutex<()> = Mutex::new(());

/// How long accepting pauses when out of fds with no reserve to spend.
pub const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

impl Acceptor {
    /// Makes the listener non-blocking and opens the reserve fd.
    pub fn new(listener: TcpListener, service: &Arc<Service>) -> io::Result<Acceptor> {
        listener.set_nonblocking(true)?;
        Ok(Acceptor {
            listener,
            service: service.clone(),
            reserve: Some(open_reserve()?),
            paused_until: None,
        })
    }

    /// Whether to watch the listener now: not once shutdown is requested,
    /// and not during a pause. A pause that is over is forgotten here, so
    /// its end stops being a deadline.
    pub fn wants_accept(&mut self, now: Instant) -> bool {
        if self.paused_until.is_some_and(|until| now >= until) {
            self.paused_until = None;
        }
        !shutdown::requested() && self.paused_until.is_none()
    }

    /// The end of a pause, as a deadline for the wait's timeout.
    pub fn deadline(&self) -> Option<Instant> {
        self.paused_until
    }

    /// One `accept(2)`. (std's `accept` retries EINTR itself, so there is
    /// no `Interrupted` here.)
    pub fn accept(&mut self, now: Instant) -> Accept {
        // Threads share one fd table: while this one has closed its spare
        // fd, another thread's accept would take the freed fd, and the
        // trick below would fail. So the acceptors of one process take
        // turns (one lock, uncontended unless two accept at once).
        let _turn = ACCEPTING
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        match self.listener.accept() {
            Ok((stream, peer)) => {
                trace!("accept fd={} peer={peer}", stream.as_raw_fd());
                Accept::Client(stream)
            }
            Err(err) if would_block(&err) => Accept::WouldBlock,
            // Shutdown shut the listener down: accept fails, and is done.
            Err(_) if shutdown::requested() => Accept::Paused,
            // EMFILE / ENFILE: no fd for the client, which stays in the
            // backlog, so the listener stays readable and the wait would
            // report it again at once, for ever: a spinning loop.
            // (Linux picks the fd before it looks at the backlog, so
            // EMFILE also comes with an empty backlog.)
            Err(err) if out_of_fds(&err) => match self.refuse_with_reserve(&err) {
                Reserve::Refused => Accept::Refused,
                Reserve::Empty => Accept::WouldBlock,
                Reserve::Spent => {
                    trace!("accept failed: {err}; no reserve fd, pausing {ACCEPT_PAUSE:?}");
                    self.paused_until = Some(now + ACCEPT_PAUSE);
                    Accept::Paused
                }
            },
            // ENOBUFS, ENOMEM, ...: leave the client in the backlog and
            // stop watching the listener for a moment.
            Err(err) => {
                trace!("accept failed: {err}; pausing {ACCEPT_PAUSE:?}");
                self.paused_until = Some(now + ACCEPT_PAUSE);
                Accept::Paused
            }
        }
    }

    /// The reserve-fd trick (libuv's `uv__emfile_trick`): close the spare fd,
    /// so one fd is free; accept the waiting client into it; refuse it (503,
    /// close); open the spare again. Repeated until the backlog is empty, it
    /// leaves the listener not readable, so the loop sleeps, and each client
    /// gets a clear answer instead of hanging.
    fn refuse_with_reserve(&mut self, err: &io::Error) -> Reserve {
        let Some(spare) = self.reserve.take() else {
            return Reserve::Spent;
        };
        drop(spare); // close(2): one fd is free now
        let outcome = match self.listener.accept() {
            Ok((stream, _peer)) => {
                refuse(stream, &self.service, &format!("accept: {err}"));
                Reserve::Refused
            }
            Err(err) if would_block(&err) => Reserve::Empty,
            // Something else took the freed fd first (EMFILE again), or
            // accept failed otherwise: pause instead.
            Err(_) => Reserve::Spent,
        };
        self.reserve = open_reserve().ok();
        match self.reserve {
            Some(_) => outcome,
            None => Reserve::Spent,
        }
    }
}

/// What spending the reserve fd achieved.
enum Reserve {
    /// A waiting client was accepted into it and refused.
    Refused,
    /// Nobody was waiting: the backlog is empty.
    Empty,
    /// No reserve to spend (or it could not be opened again): pause.
    Spent,
}

/// EMFILE (this process is at its fd limit) or ENFILE (the whole system is).
pub(crate) fn out_of_fds(err: &io::Error) -> bool {
    let code = err.raw_os_error();
    code == Some(nix::libc::EMFILE) || code == Some(nix::libc::ENFILE)
}

/// The spare fd: any cheap file will do.
pub(crate) fn open_reserve() -> io::Result<File> {
    File::open("/dev/null")
}
// ANCHOR_END: acceptor
