//! The reactor: turns the kernel's readiness reports (epoll, through the
//! `polling` crate) and due timers into wake-ups of the tasks waiting for
//! them. It knows nothing of tasks or of HTTP: only fds, deadlines and
//! [`Waker`]s. The executor calls [`Reactor::wait`] when no task can run.
//!
//! # How a socket is watched
//!
//! Every socket is wrapped in an [`Async`], which registers it once, with
//! a `key` that indexes the reactor's table of [`Source`]s. A task that
//! wants to read awaits [`Async::readable`]: the future finds the source
//! not ready, leaves its waker in the source and returns `Pending`. When
//! epoll reports the fd, [`Reactor::wait`] marks the source ready and wakes
//! that waker; the executor polls the task again, the future finds the
//! source ready and returns. The task then reads *once* and calls
//! [`Async::clear_readable`]: the next `readable` waits for the kernel
//! again.
//!
//! # Level-triggered, with interest that follows the waiters
//!
//! epoll watches each fd level-triggered, as the `epoll` server does by
//! default: while unread bytes remain, every `epoll_wait` reports the fd
//! again, so one read per report is enough and nothing is lost by clearing
//! readiness after it (an edge-triggered reactor must read until EAGAIN:
//! one more syscall per request). The price of level-triggering is that
//! epoll must not watch a direction nobody waits for, or it would report
//! it at every wait (a socket is nearly always writable). So the interest
//! follows the waiters, lazily: a direction is added when a future first
//! waits on it, and taken away when a report for it finds nobody waiting.
//! On a busy keep-alive connection the task is back waiting before the
//! next report, so the interest stays put and costs no `epoll_ctl` at all.
//!
//! # Spurious wake-ups
//!
//! A task may be woken with nothing to do: readiness that another read
//! already consumed, a timer for a deadline that moved, the wake-up every
//! task gets at shutdown. That is allowed by `Future`'s contract, and every
//! loop here handles it where it reads: a read that finds nothing (EAGAIN)
//! clears readiness and waits again.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, AsRawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use plumbing::deadline::ShowTimeout;
use plumbing::{shutdown, trace};
use polling::{Event, Events, PollMode, Poller};

/// Most readiness reports taken from one `epoll_wait`.
const EVENTS: NonZeroUsize = NonZeroUsize::new(1024).unwrap();

thread_local! {
    /// This thread's reactor, made by [`Reactor::start`]. The runtime is
    /// single-threaded: one executor, one reactor, one thread. Futures
    /// reach it here rather than keep a pointer to it: a parked connection
    /// is smaller by that pointer (see the chapter's memory figures).
    static REACTOR: OnceCell<Reactor> = const { OnceCell::new() };
}

/// The poller, the watched sources and the timers of one thread.
pub struct Reactor {
    /// epoll, wrapped. In an `Arc` because the shutdown hook, on
    /// `plumbing`'s signal thread, calls [`Poller::notify`] to wake a wait.
    poller: Arc<Poller>,
    /// Where `epoll_wait` puts its reports; reused by every wait.
    events: RefCell<Events>,
    /// Every registered source, by key (`None`: a free slot).
    sources: RefCell<Vec<Option<Rc<Source>>>>,
    /// Free keys, to reuse before growing `sources`.
    free_keys: RefCell<Vec<usize>>,
    /// Pending timers: the waker to wake at each deadline. The `u64` makes
    /// two timers for the same instant distinct.
    timers: RefCell<BTreeMap<(Instant, u64), Waker>>,
    /// The id of the next timer.
    next_timer: Cell<u64>,
    /// Shutdown has been seen and every reader woken once.
    shutdown_seen: Cell<bool>,
}

/// One direction of a socket, as the reactor tracks it.
#[derive(Default)]
struct Direction {
    /// epoll reported it, and no read or write has consumed that yet.
    ready: Cell<bool>,
    /// epoll is watching this direction now.
    armed: Cell<bool>,
}

/// A registered fd: its key, and its two directions.
pub struct Source {
    /// The fd, for `epoll_ctl` and for trace lines.
    fd: std::os::fd::RawFd,
    /// Its index in the reactor's table, and the `data` epoll reports.
    key: usize,
    /// Its reads, and its writes.
    read: Direction,
    write: Direction,
    /// No direction is watched, and the fd is in one-shot mode with no
    /// interest (see `Reactor::rearm`).
    disarmed: Cell<bool>,
    /// Which direction the waiting task waits for. One task owns a socket
    /// and waits for one thing at a time, so one waker slot is enough
    /// (two would cost every connection 16 bytes more).
    waiting: Cell<Option<Dir>>,
    /// The waiting task's waker.
    waker: Cell<Option<Waker>>,
}

/// Which way a task waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// For bytes to read (or a client to accept).
    Read,
    /// For room in the send buffer.
    Write,
}

/// The bytes an `Rc<Source>` allocates: the source and the `Rc`'s strong
/// and weak counts (for the held-connection table).
pub(crate) fn source_bytes() -> usize {
    std::mem::size_of::<Source>() + 2 * std::mem::size_of::<usize>()
}

impl Source {
    fn dir(&self, dir: Dir) -> &Direction {
        match dir {
            Dir::Read => &self.read,
            Dir::Write => &self.write,
        }
    }

    /// Wakes the waiting task, which no longer waits.
    fn wake(&self) {
        self.waiting.set(None);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    /// What epoll should report for this fd now.
    fn interest(&self) -> Event {
        let mut event = Event::none(self.key);
        event.readable = self.read.armed.get();
        event.writable = self.write.armed.get();
        event
    }
}

impl Reactor {
    /// Makes this thread's reactor, if it has none yet. The executor
    /// calls it first thing.
    pub fn start() -> io::Result<()> {
        REACTOR.with(|cell| {
            if cell.get().is_some() {
                return Ok(());
            }
            let poller = Arc::new(Poller::new()?);
            // Shutdown must wake a reactor blocked in `epoll_wait`.
            let for_shutdown = poller.clone();
            shutdown::on_request(move || {
                let _ = for_shutdown.notify();
            });
            let _ = cell.set(Reactor {
                poller,
                events: RefCell::new(Events::with_capacity(EVENTS)),
                sources: RefCell::new(Vec::new()),
                free_keys: RefCell::new(Vec::new()),
                timers: RefCell::new(BTreeMap::new()),
                next_timer: Cell::new(0),
                shutdown_seen: Cell::new(false),
            });
            Ok(())
        })
    }

    /// Runs `f` with this thread's reactor. Only futures polled by
    /// [`block_on`](crate::executor::block_on), which starts the reactor,
    /// call it: anywhere else it is a bug, and panics.
    pub fn with<R>(f: impl FnOnce(&Reactor) -> R) -> R {
        REACTOR.with(|cell| f(cell.get().expect("the reactor is used outside block_on")))
    }

    // ANCHOR: wait
    /// Blocks in `epoll_wait` until a watched fd is ready or the earliest
    /// timer is due, then wakes the tasks concerned. The executor calls it
    /// when no task can run. (`polling` retries EINTR itself, against the
    /// same deadline.)
    pub fn wait(&self) -> io::Result<()> {
        let next_timer = self.timers.borrow().keys().next().map(|&(at, _)| at);
        let timeout = next_timer.map(|at| at.saturating_duration_since(Instant::now()));
        let mut events = self.events.borrow_mut();
        events.clear();
        let ready = self.poller.wait(&mut events, timeout)?;
        trace!("epoll_wait ({}): {ready} ready", ShowTimeout(timeout));
        for event in events.iter() {
            let Some(source) = self.source(event.key) else {
                continue; // deregistered since: a stale report
            };
            if event.readable {
                self.report(&source, Dir::Read);
            }
            if event.writable {
                self.report(&source, Dir::Write);
            }
        }
        drop(events);
        self.fire_timers(Instant::now());
        self.on_shutdown();
        Ok(())
    }

    /// epoll reported `dir` of `source`: mark it ready and wake its task.
    /// Nobody waiting: stop watching that direction (level-triggered, it
    /// would be reported at every wait), until a task waits on it again.
    fn report(&self, source: &Source, dir: Dir) {
        let direction = source.dir(dir);
        direction.ready.set(true);
        if source.waiting.get() == Some(dir) {
            source.wake();
            return;
        }
        let was_armed = direction.armed.replace(false);
        // A hang-up or an error is reported whatever the interest; with
        // nothing armed, `rearm` disarms the fd completely, once.
        let nothing_armed = !source.read.armed.get() && !source.write.armed.get();
        if was_armed || (nothing_armed && !source.disarmed.get()) {
            self.rearm(source);
        }
    }
    // ANCHOR_END: wait

    /// Tells epoll the source's interest (`epoll_ctl(MOD)`). With no
    /// direction armed, the fd is put in one-shot mode with no interest:
    /// even a hang-up is then reported at most once, instead of at every
    /// wait while its task is busy elsewhere (say, in a `/delay`).
    fn rearm(&self, source: &Source) {
        let interest = source.interest();
        let disarm = !interest.readable && !interest.writable;
        source.disarmed.set(disarm);
        let mode = if disarm {
            PollMode::Oneshot
        } else {
            PollMode::Level
        };
        trace!(
            "epoll_ctl MOD fd={} read={} write={}",
            source.fd, interest.readable, interest.writable
        );
        if let Err(err) = crate::sys::modify(&self.poller, source.fd, interest, mode) {
            trace!("epoll_ctl MOD fd={}: {err}", source.fd);
        }
    }

    fn source(&self, key: usize) -> Option<Rc<Source>> {
        self.sources.borrow().get(key).cloned().flatten()
    }

    /// Wakes the tasks whose timers are due.
    fn fire_timers(&self, now: Instant) {
        loop {
            let mut timers = self.timers.borrow_mut();
            let Some(entry) = timers.first_entry() else {
                return;
            };
            if entry.key().0 > now {
                return;
            }
            let waker = entry.remove();
            drop(timers); // a waker may touch the timers (never ours, but cheap to be safe)
            trace!("timer due: waking its task");
            waker.wake();
        }
    }

    /// At shutdown, wakes every task waiting to read, once: each finds
    /// nothing to read (a spurious wake-up), and a connection between
    /// requests then sees the shutdown and closes. Readiness is set so the
    /// futures return and the loops get to look.
    fn on_shutdown(&self) {
        if !shutdown::requested() || self.shutdown_seen.replace(true) {
            return;
        }
        trace!("shutdown: waking every reader");
        for source in self.sources.borrow().iter().flatten() {
            source.read.ready.set(true);
            if source.waiting.get() == Some(Dir::Read) {
                source.wake();
            }
        }
    }
}

// ANCHOR: async
/// A socket watched by this thread's reactor (smol's `Async` in miniature):
/// non-blocking, registered once, deregistered when dropped.
pub struct Async<T: AsFd> {
    /// Its readiness and wakers, shared with the reactor's table.
    source: Rc<Source>,
    io: T,
}

impl<T: AsFd> Async<T> {
    /// Sets `io` non-blocking and registers it, watching for reads.
    pub fn new(io: T) -> io::Result<Async<T>> {
        socket2::SockRef::from(&io).set_nonblocking(true)?;
        Reactor::with(|reactor| {
            let key = match reactor.free_keys.borrow_mut().pop() {
                Some(key) => key,
                None => reactor.sources.borrow().len(),
            };
            let source = Rc::new(Source {
                fd: io.as_fd().as_raw_fd(),
                key,
                read: Direction::default(),
                write: Direction {
                    // A new socket has room to write: a write may be tried
                    // at once, and EAGAIN clears this.
                    ready: Cell::new(true),
                    ..Direction::default()
                },
                disarmed: Cell::new(false),
                waiting: Cell::new(None),
                waker: Cell::new(None),
            });
            // Watching for reads from the start: the first thing a server does.
            source.read.armed.set(true);
            crate::sys::register(&reactor.poller, &io, source.interest())?;
            let mut sources = reactor.sources.borrow_mut();
            if key == sources.len() {
                sources.push(Some(source.clone()));
            } else {
                sources[key] = Some(source.clone());
            }
            Ok(Async { source, io })
        })
    }

    /// The socket, for the read, write or accept itself.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The socket, mutably (an accept updates the acceptor's state).
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io
    }

    /// Waits until the socket is readable, or `deadline` passes.
    pub fn readable(&self, deadline: Option<Instant>) -> Ready<'_> {
        self.ready(Dir::Read, deadline)
    }

    /// Waits until the socket is writable, or `deadline` passes.
    pub fn writable(&self, deadline: Option<Instant>) -> Ready<'_> {
        self.ready(Dir::Write, deadline)
    }

    fn ready(&self, dir: Dir, deadline: Option<Instant>) -> Ready<'_> {
        Ready {
            source: &self.source,
            dir,
            deadline,
            timer: None,
        }
    }

    /// The readiness was used up: a read was made (level-triggered: if bytes
    /// are left, epoll reports them again), or a read found nothing.
    pub fn clear_readable(&self) {
        self.source.read.ready.set(false);
    }

    /// A write found the send buffer full (EAGAIN).
    pub fn clear_writable(&self) {
        self.source.write.ready.set(false);
    }
}

impl<T: AsFd> Drop for Async<T> {
    /// Deregisters the fd *before* it is closed (`io` is dropped after
    /// this runs): epoll watches the open file, not the number, and a
    /// closed fd left registered could keep reporting under a reused key.
    fn drop(&mut self) {
        Reactor::with(|reactor| {
            let _ = reactor.poller.delete(self.io.as_fd());
            reactor.sources.borrow_mut()[self.source.key] = None;
            reactor.free_keys.borrow_mut().push(self.source.key);
        });
    }
}
// ANCHOR_END: async

// ANCHOR: ready
/// What a `Ready` future ([`Async::readable`], [`Async::writable`]) saw first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The socket is ready (or, spuriously, may be: try and see).
    Ready,
    /// The deadline passed first.
    Deadline,
}

/// The future of [`Async::readable`] and [`Async::writable`].
pub struct Ready<'a> {
    source: &'a Source,
    dir: Dir,
    deadline: Option<Instant>,
    /// The id of the timer set for `deadline`, once the future has waited.
    timer: Option<u64>,
}

impl Future for Ready<'_> {
    type Output = Wake;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Wake> {
        // `Ready` holds only references and plain values: it is `Unpin`,
        // so it may be used as `&mut Self` without any pinning care.
        let this = self.get_mut();
        let direction = this.source.dir(this.dir);
        if direction.ready.get() {
            return Poll::Ready(Wake::Ready);
        }
        if this.deadline.is_some_and(|at| at <= Instant::now()) {
            return Poll::Ready(Wake::Deadline);
        }
        // Not yet: leave our waker where the reactor will find it, make
        // sure epoll watches this direction, and set the timer once.
        this.source.waiting.set(Some(this.dir));
        this.source.waker.set(Some(cx.waker().clone()));
        Reactor::with(|reactor| {
            if !direction.armed.replace(true) {
                reactor.rearm(this.source);
            }
            if let Some(at) = this.deadline {
                this.timer = Some(reactor.set_timer(this.timer, at, cx.waker()));
            }
        });
        Poll::Pending
    }
}

impl Drop for Ready<'_> {
    /// Done waiting (ready, past the deadline, or dropped unfinished): the
    /// timer must not fire for a future that is gone, and a report must not
    /// wake a task that no longer waits (with no waker left, the reactor
    /// stops watching the direction instead).
    fn drop(&mut self) {
        if self.source.waiting.get() == Some(self.dir) {
            self.source.waiting.set(None);
            self.source.waker.take();
        }
        if let (Some(at), Some(id)) = (self.deadline, self.timer) {
            Reactor::with(|reactor| reactor.cancel_timer(at, id));
        }
    }
}
// ANCHOR_END: ready

// ANCHOR: sleep
/// Waits until `deadline`: a timer, nothing else.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
    }
}

/// The future of [`sleep_until`].
pub struct Sleep {
    deadline: Instant,
    /// The id of its timer, once it has waited.
    timer: Option<u64>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut(); // Unpin, as `Ready`
        if this.deadline <= Instant::now() {
            return Poll::Ready(());
        }
        this.timer = Some(Reactor::with(|reactor| {
            reactor.set_timer(this.timer, this.deadline, cx.waker())
        }));
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(id) = self.timer {
            Reactor::with(|reactor| reactor.cancel_timer(self.deadline, id));
        }
    }
}

impl Reactor {
    /// Sets (or, polled again, refreshes) a timer that wakes `waker` at
    /// `at`, and returns its id. A future may be polled with a different
    /// waker each time; the newest is the one to wake.
    fn set_timer(&self, timer: Option<u64>, at: Instant, waker: &Waker) -> u64 {
        let mut timers = self.timers.borrow_mut();
        if let Some(id) = timer
            && let Some(old) = timers.get_mut(&(at, id))
        {
            if !old.will_wake(waker) {
                *old = waker.clone();
            }
            return id;
        }
        let id = self.next_timer.get();
        self.next_timer.set(id + 1);
        timers.insert((at, id), waker.clone());
        id
    }

    /// Removes the timer `id` set for `at`, if it has not fired: its future
    /// is done waiting, and must not be woken for it.
    fn cancel_timer(&self, at: Instant, id: u64) {
        self.timers.borrow_mut().remove(&(at, id));
    }
}
// ANCHOR_END: sleep
