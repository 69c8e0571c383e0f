//! The two calls into `polling` that take a raw fd on trust: registering a
//! socket, and changing what epoll watches on it.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use polling::{Event, PollMode, Poller};

/// Registers `io` with the poller, level-triggered, with `interest`.
pub fn register(poller: &Poller, io: &impl AsFd, interest: Event) -> io::Result<()> {
    // SAFETY: `polling` requires the fd to be deleted from the poller
    // before it is closed. `reactor::Async` owns the fd from here on and
    // its `Drop` deletes it first, before the socket it holds is dropped
    // (a struct's `Drop::drop` runs before its fields are dropped).
    unsafe { poller.add_with_mode(io.as_fd().as_raw_fd(), interest, PollMode::Level) }
}

/// Changes the interest of the registered fd `fd` (`epoll_ctl(MOD)`).
pub fn modify(poller: &Poller, fd: RawFd, interest: Event, mode: PollMode) -> io::Result<()> {
    // SAFETY: `fd` is open for as long as this call lasts. It is the fd of
    // a live `reactor::Source`, and a source leaves the reactor's table
    // (in `Async::drop`) before its socket is closed, so the reactor and
    // the `Ready` futures only ever hold fds that are still open.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    poller.modify_with_mode(fd, interest, mode)
}
