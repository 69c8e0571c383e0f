//! The calls of this model that nix does not wrap, in one place: turning on
//! signal-driven I/O for an fd (`F_SETOWN`, `F_SETSIG`, `O_ASYNC`), waiting
//! for a signal with `sigtimedwait`, reading the fd out of its `siginfo`,
//! and the limit on queued signals.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use nix::libc;

/// `F_SETSIG` from `<fcntl.h>` (Linux), which the libc crate does not name.
const F_SETSIG: libc::c_int = 10;

/// The real-time signal each ready fd raises: the first one glibc leaves
/// to programs (it keeps two or three below it for its threads).
pub fn signal() -> libc::c_int {
    libc::SIGRTMIN()
}

/// Blocks the model's signals (the real-time one and SIGIO) in the calling
/// thread. Called first thing in `main`, before any other thread exists, so
/// every thread inherits the mask: the signals then stay *pending* until
/// the loop takes them with [`wait`]. No handler ever runs. (A signal
/// directed at the process goes to any thread that does not block it; for
/// SIGIO the default action is to end the process.)
pub fn block_signals() -> io::Result<()> {
    let set = signal_set();
    // SAFETY: `set` is a valid, initialised sigset_t; the old mask is not wanted.
    let result = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    match result {
        0 => Ok(()),
        errno => Err(io::Error::from_raw_os_error(errno)),
    }
}

/// The set {the real-time signal, SIGIO}.
fn signal_set() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set; sigaddset adds to it. Both
    // only fail for an invalid signal number, and these are valid.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        libc::sigaddset(set.as_mut_ptr(), signal());
        libc::sigaddset(set.as_mut_ptr(), libc::SIGIO);
        set.assume_init()
    }
}

// ANCHOR: set_async
/// Turns on signal-driven I/O for `fd`: from now on, each time it becomes
/// readable or writable (or fails), the kernel queues the real-time signal
/// for this process, carrying the fd. Three `fcntl`s, in this order, so the
/// first signal already has an owner and a number:
/// 1. `F_SETOWN`: which process gets the signals (this one);
/// 2. `F_SETSIG`: which signal, instead of plain SIGIO. A real-time signal
///    is *queued* (one per event, each with its own `siginfo`) where SIGIO
///    is only a flag; and only with `F_SETSIG` does `siginfo` carry the fd;
/// 3. `F_SETFL O_ASYNC | O_NONBLOCK`: turn it on. Non-blocking, because a
///    signal says "something happened", and a read must never wait.
pub fn set_async(fd: &impl AsRawFd) -> io::Result<()> {
    let fd = fd.as_raw_fd();
    // SAFETY: plain fcntl calls on an fd the caller owns, with integer
    // arguments; they change only that fd's flags and owner.
    unsafe {
        check(libc::fcntl(fd, libc::F_SETOWN, libc::getpid()))?;
        check(libc::fcntl(fd, F_SETSIG, signal()))?;
        let flags = check(libc::fcntl(fd, libc::F_GETFL))?;
        check(libc::fcntl(
            fd,
            libc::F_SETFL,
            flags | libc::O_ASYNC | libc::O_NONBLOCK,
        ))?;
    }
    Ok(())
}
// ANCHOR_END: set_async

/// What woke the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The real-time signal from an fd: it is ready. `band` is the poll
    /// events (`POLLIN`, `POLLOUT`, `POLLERR`, `POLLHUP`).
    Ready {
        /// The fd that changed.
        fd: RawFd,
        /// What changed, as poll(2) events.
        band: i64,
    },
    /// Plain SIGIO: the real-time queue was full, so the kernel fell back
    /// to SIGIO, which carries no fd and is pending at most once. Events
    /// were lost: every fd must be looked at.
    Overflow,
    /// The real-time signal sent by a process (`kill`), not by an fd: the
    /// shutdown hook waking the loop.
    Nudge,
}

// ANCHOR: wait
/// `sigtimedwait`: takes one pending signal of the set, or waits for one
/// for at most `timeout`. `Ok(None)`: the timeout passed (EAGAIN).
pub fn wait(timeout: Duration) -> io::Result<Option<Wake>> {
    let set = signal_set();
    let timeout = libc::timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    let mut info = MaybeUninit::<libc::siginfo_t>::zeroed();
    // SAFETY: the set, the info buffer and the timeout are valid for the call.
    let signo = unsafe { libc::sigtimedwait(&set, info.as_mut_ptr(), &timeout) };
    if signo < 0 {
        let err = io::Error::last_os_error();
        return match err.raw_os_error() {
            Some(libc::EAGAIN) => Ok(None),
            _ => Err(err), // EINTR included: the caller retries
        };
    }
    if signo == libc::SIGIO {
        return Ok(Some(Wake::Overflow));
    }
    // SAFETY: sigtimedwait filled `info` (it returned a signal).
    let info = unsafe { info.assume_init() };
    if info.si_code <= 0 {
        return Ok(Some(Wake::Nudge)); // SI_USER, SI_QUEUE, ...: from a process
    }
    // SAFETY: a signal raised by an fd (si_code is POLL_IN, POLL_OUT, ...)
    // carries the SIGPOLL part of the union, whose layout on Linux x86-64
    // is `SigPoll` below: the kernel's `_sigpoll { long si_band; int si_fd; }`
    // after the three ints and the padding of the header.
    let poll = unsafe { &*(&info as *const libc::siginfo_t).cast::<SigPoll>() };
    Ok(Some(Wake::Ready {
        fd: poll.fd,
        band: poll.band,
    }))
}
// ANCHOR_END: wait

/// The start of a `siginfo_t` for SIGPOLL, as Linux lays it out on 64-bit
/// targets (the libc crate does not name these fields).
#[repr(C)]
struct SigPoll {
    signo: libc::c_int,
    errno: libc::c_int,
    code: libc::c_int,
    _pad: libc::c_int,
    band: libc::c_long,
    fd: libc::c_int,
}

/// Sends the real-time signal to this process: the shutdown hook's way to
/// wake a loop that sleeps in `sigtimedwait`.
pub fn nudge() {
    // SAFETY: kill with this process's own pid and a valid signal.
    unsafe {
        libc::kill(libc::getpid(), signal());
    }
}

/// Lowers this process's `RLIMIT_SIGPENDING` soft limit (how many signals
/// may be queued) to `max`: `--sigpending`, to watch the queue overflow.
pub fn limit_queue(max: u64) -> io::Result<()> {
    let mut limit = MaybeUninit::<libc::rlimit>::uninit();
    // SAFETY: getrlimit fills `limit`; setrlimit reads it; both are valid.
    unsafe {
        check(libc::getrlimit(libc::RLIMIT_SIGPENDING, limit.as_mut_ptr()))?;
        let mut limit = limit.assume_init();
        limit.rlim_cur = max.min(limit.rlim_max);
        check(libc::setrlimit(libc::RLIMIT_SIGPENDING, &limit))?;
    }
    Ok(())
}

/// A libc call's -1 as an `io::Error`.
fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    match result {
        -1 => Err(io::Error::last_os_error()),
        n => Ok(n),
    }
}
