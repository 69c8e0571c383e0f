//! The accept loop of the models that block in `accept` and hand each client
//! to a thread or a process of its own (`threaded`, `forking`): a blocking
//! listener, and what to do when the process runs out of fds.

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;

use protocol::Service;

use crate::admission::refuse;
use crate::nonblocking_accept::{ACCEPT_PAUSE, open_reserve, out_of_fds};
use crate::{shutdown, trace};

/// How long to wait after an accept error that is not about fds (ENOBUFS,
/// ENOMEM, ...) before trying again: long enough not to spin, short enough
/// that nobody notices.
const ERROR_PAUSE: Duration = Duration::from_millis(10);

// ANCHOR: blocking_acceptor
/// A blocking listener with a spare fd for refusing clients when the
/// process is out of fds.
#[derive(Debug)]
pub struct BlockingAcceptor {
    listener: TcpListener,
    /// For the 503 of a client refused for want of an fd.
    service: Arc<Service>,
    /// A spare fd (`/dev/null`), closed to make room for one refusal.
    reserve: Option<File>,
}

impl BlockingAcceptor {
    /// Takes the (blocking) listener and opens the spare fd.
    pub fn new(listener: TcpListener, service: &Arc<Service>) -> std::io::Result<Self> {
        Ok(BlockingAcceptor {
            listener,
            service: service.clone(),
            reserve: Some(open_reserve()?),
        })
    }

    /// The reserve-fd trick, blocking: close the spare fd, accept into the
    /// freed slot (waiting for a client if none is there: that is what this
    /// thread would do anyway), refuse it with a 503, open the spare again.
    /// Each client that comes while the fds are all taken gets an answer,
    /// and the loop waits in `accept` instead of spinning.
    fn refuse_with_reserve(&mut self, err: &std::io::Error) {
        match self.reserve.take() {
            Some(spare) => {
                drop(spare); // close(2): one fd is free now
                match self.listener.accept() {
                    Ok((stream, _peer)) => refuse(stream, &self.service, &format!("accept: {err}")),
                    Err(again) => trace!("accept failed again: {again}"),
                }
            }
            // Another thread took the freed fd last time: wait for fds to
            // come back rather than spin.
            None => {
                trace!("accept failed: {err}; no reserve fd, pausing {ACCEPT_PAUSE:?}");
                std::thread::sleep(ACCEPT_PAUSE);
            }
        }
        self.reserve = open_reserve().ok();
    }
}

/// The clients, one by one: `for stream in acceptor` is the accept loop.
impl Iterator for BlockingAcceptor {
    type Item = TcpStream;

    /// Blocks until the next client arrives, and returns it; `None` once
    /// shutdown is requested (the shutdown hook shuts the listener down,
    /// which wakes a blocked `accept` with an error).
    fn next(&mut self) -> Option<TcpStream> {
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    trace!("accept fd={} peer={peer}", stream.as_raw_fd());
                    return Some(stream);
                }
                Err(_) if shutdown::requested() => return None,
                // EMFILE / ENFILE. Linux picks the fd before it looks at the
                // backlog, so accept fails at once, again and again: without
                // the reserve this loop would spin, and the waiting clients
                // would hang without a word.
                Err(err) if out_of_fds(&err) => self.refuse_with_reserve(&err),
                // (EINTR never shows here: std's accept retries it itself.)
                Err(err) => {
                    trace!("accept failed: {err}; pausing {ERROR_PAUSE:?}");
                    std::thread::sleep(ERROR_PAUSE);
                }
            }
        }
    }
}
// ANCHOR_END: blocking_acceptor
