//! What `async_await`'s reactor gives a task in one call,
//! `Async::readable(deadline)`, put together from tokio's parts: the
//! socket's readiness (tokio's I/O driver), a deadline (its timer wheel)
//! and shutdown (a `watch` channel), whichever comes first.

use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::{Duration, Instant};

use plumbing::nonblocking_accept::Acceptor;
use plumbing::shutdown;
use tokio::sync::watch;

// ANCHOR: wait
/// What ended a [`wait`]: as `async_await`'s `Wake`.
#[derive(Debug, PartialEq, Eq)]
pub enum Wake {
    /// The socket is ready, or shutdown woke the task: a spurious wake-up,
    /// as every reader gets once at shutdown in `async_await`. The read
    /// finds EAGAIN, and the loop sees the shutdown.
    Ready,
    /// The deadline passed first.
    Deadline,
}

/// Shutdown, as one connection's task sees it. `plumbing`'s signal thread
/// sends `true` once; each receiver sees that change once.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Makes the channel, and hands its sender to `plumbing`'s shutdown hook.
    pub fn install() -> Stop {
        let (sender, receiver) = watch::channel(false);
        shutdown::on_request(move || {
            // Fails only when no receiver is left: nobody to wake.
            let _ = sender.send(true);
        });
        Stop(receiver)
    }
}

/// Longer than any deadline: the wait of a connection with none.
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);

/// Waits for whichever comes first: `ready` (`readable()` or `writable()`
/// of a tokio socket), the deadline, or shutdown.
pub async fn wait(
    ready: impl Future<Output = io::Result<()>>,
    deadline: Option<Instant>,
    stop: &mut Stop,
) -> Wake {
    let at = deadline.unwrap_or_else(|| Instant::now() + NEVER);
    tokio::select! {
        // An error means the runtime is going away: the next read or write
        // says what happened.
        _ = ready => Wake::Ready,
        () = tokio::time::sleep_until(at.into()) => Wake::Deadline,
        _ = stop.0.changed() => Wake::Ready,
    }
}
// ANCHOR_END: wait

/// The listener, for [`tokio::io::unix::AsyncFd`], which takes anything
/// with a raw fd.
pub struct Listening(pub Acceptor);

impl AsRawFd for Listening {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}
