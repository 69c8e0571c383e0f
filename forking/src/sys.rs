//! The forking model's unsafe calls, each under a `// SAFETY:` comment:
//! `fork`, `_exit`, and the child's signal handler.

use std::io;

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nix::unistd::{ForkResult, Pid};

/// Which side of a `fork` this process is on.
pub enum Forked {
    /// The new process: a copy of the parent, with only the thread that
    /// forked. `parent` is the parent's PID, taken before the fork: asked
    /// for later with getppid(), it could already be another process's
    /// (the parent may die first, and the child is then adopted).
    Child { parent: Pid },
    /// The old process, told its child's PID.
    Parent(Pid),
}

// ANCHOR: fork
/// `fork(2)`: the process is copied (its memory copy-on-write, its fd table
/// duplicated, so the child holds the accepted socket and the listener too).
/// Call it only through [`crate::children::Children::fork`], which holds the
/// lock the reaper takes.
pub fn fork() -> io::Result<Forked> {
    let parent = nix::unistd::getpid();
    // SAFETY: this process has other threads (plumbing's signal thread and
    // the reaper), and the child gets a copy of their memory but not the
    // threads: any lock one of them held at the fork stays locked for ever
    // in the child. So the child must not take a lock another thread could
    // hold. What the child does (see `serve` and `worker`): it allocates
    // (glibc's malloc takes its arena locks in a pthread_atfork handler, so
    // they are consistent in the child), writes trace lines (one write(2),
    // no stderr lock), sets its signal handlers, and serves its socket with
    // the blocking loop, which takes no lock. The one lock the other threads
    // share with it, the children table's, is held by the forking thread
    // across this call, and the child never touches that table.
    match unsafe { nix::unistd::fork() }? {
        ForkResult::Child => Ok(Forked::Child { parent }),
        ForkResult::Parent { child } => Ok(Forked::Parent(child)),
    }
}
// ANCHOR_END: fork

/// Ends a child with `_exit(2)`: at once, without the parent's exit
/// handlers or destructors (the copies of the parent's objects are not the
/// child's to clean up; the kernel closes its fds).
pub fn exit_child(code: i32) -> ! {
    // SAFETY: _exit only ends the process; it touches no memory of ours and
    // returns to nothing, so nothing can observe a broken invariant.
    unsafe { nix::libc::_exit(code) }
}

/// The child's handler for SIGINT and SIGTERM: it only marks shutdown as
/// requested (one atomic store, async-signal-safe). The work is done by the
/// serving loop, which sees the flag when its blocked call returns.
extern "C" fn on_shutdown_signal(_signal: nix::libc::c_int) {
    plumbing::shutdown::request();
}

// ANCHOR: child_signals
/// Sets up a new child's shutdown. The parent's signal thread was not
/// copied, and the child inherited SIGINT/SIGTERM blocked, so it installs a
/// handler and unblocks them. The handler has no SA_RESTART: a `read` the
/// child is blocked in fails with EINTR, and the pull loop, going round,
/// finds shutdown requested and stops once its connection is idle. A
/// signal that came before this (the parent stopping at once) was held
/// pending by the mask, and is delivered when it is lifted.
///
/// It also asks the kernel to send this child `on_parent_death` when its
/// parent dies, however it dies (`PR_SET_PDEATHSIG`), so no orphan outlives
/// the server. A child serving a connection takes SIGTERM, and finishes
/// its response first. A preforked worker must take SIGKILL: it may be
/// blocked in `accept`, which std retries on EINTR, on a listener that
/// nobody will shut down now that the parent is gone, so a SIGTERM would
/// leave it there for ever.
pub fn take_shutdown_signals(parent: Pid, on_parent_death: Signal) -> io::Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(on_shutdown_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    let mut signals = SigSet::empty();
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler is async-signal-safe (one relaxed atomic
        // store, no lock, no allocation), and it replaces the default
        // action, not a handler anyone else installed.
        unsafe { sigaction(signal, &action) }?;
        signals.add(signal);
    }
    nix::sys::prctl::set_pdeathsig(on_parent_death)?;
    // The parent may have died before the line above: then nothing will
    // send the signal, and this child was adopted by another process.
    if nix::unistd::getppid() != parent {
        nix::sys::signal::raise(on_parent_death)?;
    }
    signals.thread_unblock()?;
    Ok(())
}
// ANCHOR_END: child_signals
