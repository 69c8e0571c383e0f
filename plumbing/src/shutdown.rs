//! SIGINT and SIGTERM: stop accepting, give in-flight work up to 2 s, exit 0.
//!
//! The signals are *blocked* in every thread (the mask is set on the main
//! thread before any other thread exists, and threads inherit it) and taken
//! synchronously by one thread of their own with `sigwait(2)`. So no model
//! ever runs code inside an asynchronous signal handler, and no model's
//! blocking call is interrupted by these signals (they never see EINTR from
//! them). When a signal arrives that thread:
//!
//! 1. sets the flag that [`requested`] reads;
//! 2. runs the wake-up hooks (see [`on_request`]): the first one, installed by
//!    [`crate::run`], shuts the listening socket down, which wakes a blocked
//!    `accept` with an error and refuses new connections; event loops add one
//!    that wakes their wait call;
//! 3. waits up to [`GRACE`] for the model to return from `serve`, then exits
//!    the process with status 0 itself, whatever the model is blocked on.
//!
//! Forked children inherit the blocked mask but not this thread: a forking
//! model must set up its children's own handling, and calls [`request`]
//! from it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::sys::signal::{SigSet, Signal};

/// How long in-flight responses get to finish after SIGINT/SIGTERM.
pub const GRACE: Duration = Duration::from_secs(2);

/// Set once a shutdown signal arrived.
static REQUESTED: AtomicBool = AtomicBool::new(false);

/// What to run when a shutdown signal arrives, to wake the model's loop.
type Hook = Box<dyn Fn() + Send>;
static HOOKS: Mutex<Vec<Hook>> = Mutex::new(Vec::new());

/// Whether SIGINT or SIGTERM has arrived: the model stops accepting, finishes
/// what is in flight, and returns from `serve`.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// Marks shutdown as requested in this process, as the signal thread does.
/// For a forked child, which has no signal thread: its own SIGTERM handler
/// calls this. It is one relaxed atomic store, so it is async-signal-safe
/// (it takes no lock, allocates nothing, and cannot be torn).
pub fn request() {
    REQUESTED.store(true, Ordering::Relaxed);
}

/// Registers `hook` to run (on the signal thread) when shutdown is requested:
/// the place to wake a loop blocked in `epoll_wait`, `select`, a ring, ...
pub fn on_request(hook: impl Fn() + Send + 'static) {
    HOOKS
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
        .push(Box::new(hook));
}

/// Blocks SIGINT and SIGTERM in the calling thread (call it before starting
/// any thread, so all inherit the mask) and starts the thread that takes them.
///
/// SIGCHLD is blocked too, in every thread, for `forking`: its reaper thread
/// takes SIGCHLD with `sigwait`, which works only if no thread leaves it
/// unblocked (the kernel would deliver it to that thread, where its default
/// action is to ignore it, and the reaper would never hear of the child).
/// Models without children never get a SIGCHLD.
pub fn install() -> std::io::Result<()> {
    let mut signals = SigSet::empty();
    signals.add(Signal::SIGINT);
    signals.add(Signal::SIGTERM);
    let mut blocked = signals;
    blocked.add(Signal::SIGCHLD);
    blocked.thread_block()?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let Ok(signal) = signals.wait() else { return };
            crate::trace!(
                "signal {signal:?}: stop accepting, {} s grace",
                GRACE.as_secs()
            );
            REQUESTED.store(true, Ordering::Relaxed);
            for hook in HOOKS
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .iter()
            {
                hook();
            }
            std::thread::sleep(GRACE);
            crate::trace!("grace over: exit 0");
            std::process::exit(0);
        })?;
    Ok(())
}
