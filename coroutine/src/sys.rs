//! The one place this crate needs `unsafe` besides the spawn (which is in
//! `server`, where the chapter shows it): handing an accepted socket over
//! to may.

use std::io;
use std::net::TcpStream;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Turns a socket accepted by std into may's: set non-blocking and
/// registered with may's epoll, so that its reads and writes park the
/// calling coroutine instead of blocking the thread.
///
/// may offers no safe conversion, only `FromRawFd`, and its `from_raw_fd`
/// panics when the registration fails (epoll's `ENOMEM`, or `ENOSPC` past
/// `max_user_watches`). A panic here would take the accept loop, and the
/// server, with it; caught, it is one client closed. The socket is closed
/// either way: inside may, the std socket it was wrapped in is dropped as
/// the panic unwinds.
pub fn adopt(stream: TcpStream) -> io::Result<may::net::TcpStream> {
    let fd = stream.into_raw_fd();
    // SAFETY: `fd` is an open, connected TCP socket that nothing else owns:
    // `into_raw_fd` just gave up std's ownership, and may's `TcpStream`
    // takes it over (it closes the fd when dropped, and no other handle to
    // it exists). `AssertUnwindSafe`: on a panic nothing of ours is left
    // half-updated; the closure only owns the fd.
    catch_unwind(AssertUnwindSafe(|| unsafe {
        may::net::TcpStream::from_raw_fd(fd)
    }))
    .map_err(|_| io::Error::other("may could not register the socket with its epoll"))
}
