//! The listener's side of the loop: keeping an accept in flight, taking
//! new clients in, and what to do when accepting fails (out of fds).

use std::io;
use std::net::TcpStream;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Instant;

use io_uring::cqueue;
use io_uring::types::Fd;
use nix::libc;
use plumbing::admission::refuse;
use plumbing::nonblocking_accept::{ACCEPT_PAUSE, Accept};
use plumbing::{shutdown, trace};
use protocol::Connection;

use super::Loop;
use crate::Shots;
use crate::client::Client;
use crate::ops::{self, Op, errno};
use crate::sys;

impl Loop {
    /// Keeps an accept in flight, unless one is, or accepting rests (out of
    /// fds, see `accept_after`: clients that arrive meanwhile are refused
    /// at the next try, at most `ACCEPT_PAUSE` late, unless a connection
    /// closes first), or the server is shutting down.
    pub(super) fn watch_listener(&mut self, now: Instant) -> io::Result<()> {
        if self.accept_after.is_some_and(|after| now >= after) {
            self.accept_after = None;
        }
        if !self.accepting && self.accept_after.is_none() && self.acceptor.wants_accept(now) {
            self.submit_accept()?;
        }
        Ok(())
    }

    /// Shutdown: cancels the accept in flight, if any.
    pub(super) fn stop_accepting(&mut self) -> io::Result<()> {
        match self.accepting {
            true => self.push(ops::cancel(Op::Accept), Op::Cancel),
            false => Ok(()),
        }
    }

    // ANCHOR: accept
    /// Queues an accept on the listener. Multishot: this one operation
    /// completes once per client for as long as it lasts (a completion
    /// without `IORING_CQE_F_MORE` says it has stopped).
    fn submit_accept(&mut self) -> io::Result<()> {
        let listener = Fd(self.acceptor.as_fd().as_raw_fd());
        let entry = ops::accept(listener, self.accept_shots);
        self.accepting = true;
        self.push(entry, Op::Accept)
    }

    /// An accept completed: a new client's fd, or an error.
    pub(super) fn on_accept(&mut self, result: i32, flags: u32, now: Instant) -> io::Result<()> {
        if !cqueue::more(flags) {
            self.accepting = false; // the next round submits another
        }
        if result >= 0 {
            let stream = sys::adopt(result);
            trace!("accept fd={result}");
            return self.admit(stream);
        }
        match -result {
            _ if shutdown::requested() => {} // cancelled, or the listener was shut down
            // A kernel before 5.19 refuses multishot accept: fall back.
            libc::EINVAL if self.accept_shots == Shots::Multi => {
                trace!("accept: multishot refused (EINVAL), falling back to single accepts");
                self.accept_shots = Shots::Single;
            }
            // EMFILE, ENFILE, ENOBUFS, ...: the non-blocking accept of the
            // other event loops takes over once, with its reserve fd: it
            // turns the waiting clients away with a 503 when out of fds, or
            // pauses accepting (`wants_accept` says when to resume). Then
            // no accept for a while: see `accept_after`.
            errno_value => {
                trace!(
                    "accept: {}; next accept in {ACCEPT_PAUSE:?} or after a close",
                    errno(-errno_value)
                );
                loop {
                    match self.acceptor.accept(now) {
                        Accept::Client(stream) => self.admit(stream)?,
                        Accept::Refused => {} // one refused, maybe more waiting
                        Accept::WouldBlock | Accept::Paused => break,
                    }
                }
                self.accept_after = Some(now + ACCEPT_PAUSE);
            }
        }
        Ok(())
    }

    /// Takes a new client in (or turns it away at `--max-conns`), and
    /// queues its first `recv`.
    fn admit(&mut self, stream: TcpStream) -> io::Result<()> {
        let Some(place) = self.places.take() else {
            refuse(stream, &self.service, "--max-conns reached");
            return Ok(());
        };
        // Responses are written whole; Nagle would only hold them back.
        let _ = stream.set_nodelay(true);
        let token = self.clients.insert(Client {
            stream,
            // Lending: its output is sent from where it is (`settle`).
            state: Connection::new(self.service.clone(), self.now).lending(),
            receiving: false,
            cancelling_recv: false,
            stash: Vec::new(),
            stashed_eof: false,
            sending: None,
            gather: None,
            cancelling_send: false,
            file_io: None,
            failed: false,
            armed: None,
            _place: place,
        });
        self.settle(token)
    }
    // ANCHOR_END: accept
}
