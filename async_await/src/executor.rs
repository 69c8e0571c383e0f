//! The executor: runs tasks (boxed futures) on this one thread, polling a
//! task only when its waker says it can make progress, and handing the
//! thread to the reactor when none can.
//!
//! # One request, start to end
//!
//! 1. A connection's task is polled. Its `async fn` runs until an `.await`
//!    whose future is not ready (say, `readable()` with no bytes yet): that
//!    future leaves the task's [`Waker`] with the reactor and returns
//!    `Pending`, and so does the whole task. Nothing more runs for it.
//! 2. With no task left to poll, [`block_on`] calls
//!    [`Reactor::wait`], which blocks in `epoll_wait`.
//! 3. The request arrives; epoll reports the socket; the reactor calls
//!    `wake()` on the waker it was given, and the waker puts the task's id
//!    on the ready queue.
//! 4. The executor polls the task again. The `async fn` resumes at the same
//!    `.await`, now ready, and goes on: it reads, answers, and parks at the
//!    next `.await`.
//!
//! # Single-threaded, on purpose
//!
//! Tasks never move between threads, so they need not be `Send`, and the
//! reactor's bookkeeping is `Cell`s and `RefCell`s without locks. Only the
//! ready queue has a lock: std requires every [`Waker`] to be `Send` and
//! `Sync`, because a waker *could* be sent to another thread (a library
//! future may hand it to a helper thread), and `wake` must then work. (tokio's
//! multi-threaded runtime does send them: a worker steals tasks from another
//! worker's queue. See the chapter.)

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use plumbing::trace;

use crate::reactor::Reactor;

/// A task: a future that runs to its end, boxed so tasks of every type
/// fit one table, and pinned because an `async fn`'s state may point into
/// itself (a local borrowed across an `.await`): once polled, it must never
/// move. `Pin<Box<..>>` pins the future on the heap; moving the *box*
/// around, as the table does, moves only the pointer.
pub(crate) type Task = Pin<Box<dyn Future<Output = ()>>>;

thread_local! {
    /// Tasks spawned while another task is being polled. The run loop moves
    /// them into its table between polls (the table is busy during one).
    static SPAWNED: RefCell<Vec<Task>> = const { RefCell::new(Vec::new()) };
}

/// Starts `future` as a task of the executor running on this thread; it
/// is first polled once the current task returns `Pending` or ends.
pub fn spawn(future: impl Future<Output = ()> + 'static) {
    SPAWNED.with_borrow_mut(|spawned| spawned.push(Box::pin(future)));
}

// ANCHOR: waker
/// The ids of the tasks to poll next: wakers push, the run loop pops. A
/// `static` because a waker here is nothing but a task's id (see
/// [`waker`]); its `wake` finds the queue by name. So one executor runs
/// per process ([`block_on`] refuses a second at once).
static READY: Mutex<VecDeque<usize>> = Mutex::new(VecDeque::new());

/// Set while [`block_on`] runs.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// The ready queue, locked. (A panic while it was held cannot leave it
/// half-updated: `push_back` and `pop_front` are the only uses.)
fn ready_queue() -> MutexGuard<'static, VecDeque<usize>> {
    READY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Puts a task's id on the ready queue.
fn schedule(id: usize) {
    ready_queue().push_back(id);
}

/// Takes the next task id off the ready queue. A function of its own so
/// that the lock is released before the task is polled: held across the
/// poll (as a `while let ready_queue().pop_front()` would hold it), a
/// wake-up during the poll would deadlock on it.
fn next_ready() -> Option<usize> {
    ready_queue().pop_front()
}

/// The [`Waker`] of task `id`: a [`RawWaker`] whose data word *is* the id,
/// with functions that copy it (clone), forget it (drop), or [`schedule`]
/// it (wake). Nothing is allocated, and a parked connection is that much
/// smaller. (The safe alternative, `impl std::task::Wake` on an `Arc`, is
/// one allocation of 48 bytes per task: measured, it took this server from
/// under to over 512 bytes per held connection.)
///
/// A stale waker (its task has ended, and the id may belong to a new task
/// now) at worst polls a task that has nothing to do: a spurious wake-up,
/// which every future must tolerate.
fn waker(id: usize) -> Waker {
    /// The four functions every waker of this executor shares.
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, forget);
    fn clone(data: *const ()) -> RawWaker {
        RawWaker::new(data, &VTABLE)
    }
    fn wake(data: *const ()) {
        schedule(data.addr());
    }
    fn forget(_data: *const ()) {}
    let data = std::ptr::without_provenance::<()>(id);
    // SAFETY: `Waker::from_raw` asks that the vtable's functions uphold
    // `RawWaker`'s contract: they must be safe to call with this data word
    // from any thread, any number of times, and `clone` must return a
    // waker for the same task. Ours never dereference the word (it is an
    // id, not a pointer: `without_provenance` says so), own nothing (so
    // `forget` has nothing to free, and copying is cloning), and `wake`
    // only locks a `Mutex`, which is thread-safe.
    unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) }
}
// ANCHOR_END: waker

// ANCHOR: block_on
/// Runs `main` and every task it spawns on this thread, until `main` has
/// returned and every other task has ended (so at shutdown, in-flight
/// connections finish). An error from `main` is returned at once.
pub fn block_on(main: impl Future<Output = io::Result<()>> + 'static) -> io::Result<()> {
    if RUNNING.swap(true, Ordering::SeqCst) {
        return Err(io::Error::other("an executor is already running"));
    }
    Reactor::start()?;
    // Every live task, by id; `None` is a free slot, whose id is in `free`.
    let mut tasks: Vec<Option<Task>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    // `main`'s result, written by its task when it ends.
    let outcome = Rc::new(RefCell::new(None));
    let written = outcome.clone();
    spawn(async move { *written.borrow_mut() = Some(main.await) });
    let mut live = 0usize;
    loop {
        // New tasks get a slot, and are polled once to start.
        for task in SPAWNED.with_borrow_mut(std::mem::take) {
            let id = free.pop().unwrap_or(tasks.len());
            if id == tasks.len() {
                tasks.push(Some(task));
            } else {
                tasks[id] = Some(task);
            }
            live += 1;
            schedule(id);
        }
        // Poll every task that was woken; new wake-ups during this round
        // join the queue and are served in this round too.
        while let Some(id) = next_ready() {
            // Woken but gone (a stale waker): nothing to do.
            let Some(task) = tasks.get_mut(id).and_then(Option::as_mut) else {
                continue;
            };
            let waker = waker(id);
            let mut cx = Context::from_waker(&waker);
            if let Poll::Ready(()) = task.as_mut().poll(&mut cx) {
                tasks[id] = None; // the task's future is dropped here: its socket closes
                free.push(id);
                live -= 1;
            }
            if SPAWNED.with_borrow(|spawned| !spawned.is_empty()) {
                break; // give the new tasks their slots first
            }
        }
        if SPAWNED.with_borrow(|spawned| !spawned.is_empty()) {
            continue;
        }
        match outcome.borrow_mut().take() {
            Some(Err(err)) => return Err(err),
            Some(Ok(())) => trace!("main task done; {live} task(s) left to finish"),
            None => {}
        }
        if live == 0 {
            return Ok(());
        }
        // Nothing can run: block until the kernel or a timer says otherwise.
        Reactor::with(Reactor::wait)?;
    }
}
// ANCHOR_END: block_on
