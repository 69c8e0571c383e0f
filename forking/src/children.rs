//! The parent's table of live children, and the reaper that empties it.
//!
//! A child that exits stays a *zombie* (its PID and exit status kept by the
//! kernel) until its parent collects it with `wait`. A server that forks
//! per connection and never waits fills the process table. The kernel tells
//! the parent with SIGCHLD; here a thread of its own takes SIGCHLD
//! synchronously (`sigwait`; every thread has it blocked, see `plumbing`'s
//! shutdown module) and reaps.

use std::collections::HashSet;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{SigSet, Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use plumbing::trace;

use crate::sys::{self, Forked};

/// Live children: forked and not yet reaped.
#[derive(Debug, Default)]
pub struct Children {
    live: Mutex<HashSet<Pid>>,
    /// Signalled whenever a child is reaped, and by [`Children::wake`].
    changed: Condvar,
}

impl Children {
    /// An empty table, with its reaper thread running.
    pub fn start() -> std::io::Result<Arc<Children>> {
        let children = Arc::new(Children::default());
        let reaper = children.clone();
        std::thread::Builder::new()
            .name("reaper".into())
            .spawn(move || reaper.reap_forever())?;
        Ok(children)
    }

    fn lock(&self) -> MutexGuard<'_, HashSet<Pid>> {
        self.live
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// How many children are live (forked and not yet reaped).
    pub fn count(&self) -> usize {
        self.lock().len()
    }

    /// Forks, and records the child in the parent. The table's lock is held
    /// across the fork, so the reaper cannot reap the child before it is
    /// recorded (a quick child could exit first), and so no other thread
    /// holds that lock when the child's copy of memory is taken.
    pub fn fork(&self) -> std::io::Result<Forked> {
        let mut live = self.lock();
        let forked = sys::fork()?;
        match &forked {
            Forked::Parent(pid) => {
                live.insert(*pid);
            }
            // The child's copy of the guard would unlock a copy of the lock
            // that the child never uses; forget it instead.
            Forked::Child { .. } => std::mem::forget(live),
        }
        Ok(forked)
    }

    // ANCHOR: reap
    /// The reaper thread: sleep until SIGCHLD, reap, again.
    fn reap_forever(&self) {
        let mut sigchld = SigSet::empty();
        sigchld.add(Signal::SIGCHLD);
        loop {
            // Blocks until a SIGCHLD is pending, and takes it.
            if let Err(err) = sigchld.wait() {
                trace!("sigwait failed: {err}");
                std::thread::sleep(Duration::from_millis(100));
            }
            self.reap();
        }
    }

    /// Collects every child that has exited. One SIGCHLD may stand for many
    /// children (a signal that is already pending is not queued twice), so
    /// this loops until `waitpid` says nobody else is ready.
    fn reap(&self) {
        loop {
            // WNOHANG: report an exited child, or return at once.
            let status = waitpid(None, Some(WaitPidFlag::WNOHANG));
            let pid = match status {
                Ok(WaitStatus::Exited(pid, code)) => {
                    trace!("reap pid={pid}: exited {code}");
                    pid
                }
                Ok(WaitStatus::Signaled(pid, signal, _core)) => {
                    trace!("reap pid={pid}: killed by {signal}");
                    pid
                }
                // Nobody else has exited yet (StillAlive), or there are no
                // children at all (ECHILD): done until the next SIGCHLD.
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
                Err(Errno::EINTR) => continue,
                Ok(other) => {
                    trace!("waitpid: {other:?}");
                    continue;
                }
                Err(err) => {
                    trace!("waitpid failed: {err}");
                    return;
                }
            };
            self.lock().remove(&pid);
            self.changed.notify_all();
        }
    }
    // ANCHOR_END: reap

    /// Blocks until `done(live count)` holds, or until [`Children::wake`].
    pub fn wait_until(&self, done: impl Fn(usize) -> bool) {
        let live = self.lock();
        let _live = self
            .changed
            .wait_while(live, |live| !done(live.len()))
            .unwrap_or_else(|poison| poison.into_inner());
    }

    /// Wakes [`Children::wait_until`] to look at its condition again (for
    /// shutdown, which it cannot see change otherwise).
    pub fn wake(&self) {
        let _live = self.lock();
        self.changed.notify_all();
    }

    // ANCHOR: stop
    /// Shutdown: SIGTERM to every child, which finishes its response in
    /// flight and exits; by `deadline` whoever is left gets SIGKILL. Returns
    /// once every child is reaped (or a short while after the SIGKILLs).
    pub fn stop(&self, deadline: Instant) {
        self.signal_all(Signal::SIGTERM);
        if !self.wait_for_none(deadline) {
            self.signal_all(Signal::SIGKILL);
            self.wait_for_none(Instant::now() + Duration::from_millis(200));
        }
    }

    fn signal_all(&self, signal: Signal) {
        for &pid in self.lock().iter() {
            trace!("kill pid={pid} {signal}");
            // ESRCH: it has exited and waits to be reaped. Nothing to do.
            let _ = kill(pid, signal);
        }
    }

    /// Waits until every child is reaped or `deadline`; true if all were.
    fn wait_for_none(&self, deadline: Instant) -> bool {
        let live = self.lock();
        let timeout = deadline.saturating_duration_since(Instant::now());
        let (live, _) = self
            .changed
            .wait_timeout_while(live, timeout, |live| !live.is_empty())
            .unwrap_or_else(|poison| poison.into_inner());
        live.is_empty()
    }
    // ANCHOR_END: stop
}
