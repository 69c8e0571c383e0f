//! The io_uring loop: queue operations, submit them and wait in one call,
//! act on what completed. No readiness anywhere: the loop never asks
//! whether a socket *can* be read, it asks the kernel to read it, and hears
//! back when the bytes are already in a buffer.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Instant;

use io_uring::types::{Fd, SubmitArgs, Timespec};
use io_uring::{IoUring, cqueue, squeue};
use nix::libc;
use plumbing::admission::Places;
use plumbing::nonblocking_accept::Acceptor;
use plumbing::table::Table;
use plumbing::timers::Timers;
use plumbing::{shutdown, trace};
use protocol::Service;

mod accept;
mod file;
mod timer;

use crate::client::Client;
use crate::ops::{self, Op, Received, errno, queue};
use crate::sys::Pool;
use crate::{Shots, Wait};

/// Most completions one wait asks for: a busy round's worth (at 100 busy
/// connections, each has a `recv` or a `send` completing per request).
const MAX_BATCH: usize = 64;

/// The fewest completions a round must bring for the next wait to hold on
/// for a batch: sixteen clients' worth of a `recv` and a `send`. Ten busy
/// clients bring at most twenty a round, and each of them is waiting for an
/// answer: holding on for more would only keep them waiting (measured: at
/// c10, waiting for a batch cost a quarter of the rate).
const BATCH_FROM: usize = 32;

/// How long a wait may hold on for a whole batch before it returns with
/// what has come: about one request's worth of a busy server's time, short
/// beside the client's round trip.
const BATCH_WAIT_US: u32 = 50;

/// The server: one ring, one thread.
pub struct Loop {
    /// The submission and completion queues, shared with the kernel.
    ring: IoUring,
    /// The buffers the kernel receives into.
    pool: Pool,
    /// The listener, and the way out when the process runs out of fds.
    acceptor: Acceptor,
    /// Multishot accept (one stays in flight for every client) or single.
    accept_shots: Shots,
    /// Multishot recv (one per connection, for every read) or single.
    recv_shots: Shots,
    /// An accept is in flight.
    accepting: bool,
    /// Out of fds: no accept until this time, or until a connection closes.
    /// (An accept fails at once with EMFILE, even with nobody waiting: in
    /// flight again at once, it would fail again at once, for ever.)
    accept_after: Option<Instant>,
    /// Protocol, site, timeouts: shared by every connection.
    service: Arc<Service>,
    /// `--max-conns`.
    places: Places,
    /// The connections, by token (the token goes into `user_data`).
    clients: Table<Client>,
    /// Their deadlines, earliest first.
    timers: Timers,
    /// When the timeouts in flight fire, earliest first. Usually one; an
    /// earlier deadline adds another rather than cancelling the later one.
    timeouts: BinaryHeap<Reverse<Instant>>,
    /// The timeout's length. The kernel copies it when the timeout is
    /// submitted, so one field, rewritten before each, is enough.
    timespec: Timespec,
    /// The time the last wait ended: the clock is read once per round, not
    /// once per completion (at 150,000 requests a second, reading it per
    /// completion cost about 2% of the CPU).
    now: Instant,
    /// Completions taken from the queue, then handled (handling queues new
    /// operations, which needs the ring the queue borrows).
    completions: Vec<(u64, i32, u32)>,
    /// How many completions the last round brought: what the next wait
    /// asks for, when it holds on for a batch. `None` where the kernel has
    /// no batching wait (before Linux 6.12): every wait is for one.
    batch: Option<usize>,
    /// The fewest completions a round must bring for the next wait to hold
    /// on for a batch: [`BATCH_FROM`], or what `--wait` says instead.
    batch_from: usize,
    /// Shutdown was requested and acted on.
    stopping: bool,
}

impl Loop {
    // ANCHOR: setup
    /// Takes the ring and the buffer pool that `main` set up and probed.
    pub fn new(
        ring: crate::Ring,
        server: plumbing::Server,
        shots: Shots,
        wait_for: Wait,
    ) -> io::Result<Loop> {
        let crate::Ring { ring, pool } = ring;
        // The batching wait needs 6.12, which says so in a feature flag.
        // Asked at start, not learnt from an EINVAL: before 6.12 the kernel
        // refuses `min_wait_usec` only in a call that submitted nothing;
        // one that submitted something returns at once, without waiting.
        let batching = ring.params().is_feature_min_timeout();
        if !batching {
            trace!(
                "no batching wait (IORING_FEAT_MIN_TIMEOUT, Linux 6.12): one completion per wait"
            );
        }
        Ok(Loop {
            ring,
            pool,
            acceptor: Acceptor::new(server.listener, &server.service)?,
            accept_shots: shots,
            recv_shots: shots,
            accepting: false,
            accept_after: None,
            places: Places::new(server.max_conns),
            service: server.service,
            clients: Table::default(),
            timers: Timers::default(),
            timeouts: BinaryHeap::new(),
            timespec: Timespec::new(),
            now: Instant::now(),
            completions: Vec::new(),
            batch: batching.then_some(0),
            batch_from: match wait_for {
                Wait::Adaptive => BATCH_FROM,
                Wait::Batch => 2,        // after any round of two or more
                Wait::One => usize::MAX, // never
            },
            stopping: false,
        })
    }
    // ANCHOR_END: setup

    // ANCHOR: event_loop
    /// Serves until shutdown.
    pub fn serve(mut self) -> io::Result<()> {
        self.watch_listener(Instant::now())?;
        loop {
            // 1. Shutdown: stop accepting, close the idle connections once
            //    (their receives are cancelled), and end when the busy ones
            //    have finished.
            if shutdown::requested() && !self.stopping {
                self.stop()?;
            }
            if self.stopping && self.clients.is_empty() {
                trace!("shutdown: no connections left");
                return Ok(());
            }

            // 2. Wait: one system call submits what was queued (a timeout
            //    for the earliest deadline among it) and sleeps until at
            //    least one operation has completed.
            self.wait()?;

            // 3. Dispatch: every completion, each naming its operation.
            self.completions.clear();
            for cqe in self.ring.completion() {
                self.completions
                    .push((cqe.user_data(), cqe.result(), cqe.flags()));
            }
            trace!("{} completions", self.completions.len());
            if let Some(batch) = &mut self.batch {
                *batch = self.completions.len();
            }
            self.now = Instant::now();
            let now = self.now;
            for i in 0..self.completions.len() {
                let (data, result, flags) = self.completions[i];
                match Op::unpack(data) {
                    Op::Accept => self.on_accept(result, flags, now)?,
                    Op::Timer => self.on_timer(result),
                    // A cancellation's own result: ENOENT or EALREADY when
                    // the operation had completed already; nothing to do.
                    Op::Cancel => {}
                    Op::Recv(token) => self.on_recv(token, result, flags)?,
                    Op::Send(token) => self.on_send(token, result)?,
                    Op::Open(token) => self.on_open(token, result)?,
                    Op::Read(token) => self.on_read(token, result)?,
                }
            }

            // 4. Timers that are due: a /delay's answer, a 408, an idle close.
            self.fire_timers(now)?;

            // 5. Interest, as operations: an accept in flight (not during an
            //    accept pause), and a timeout for the earliest deadline.
            self.watch_listener(now)?;
            self.arm_timer(now)?;
        }
    }
    // ANCHOR_END: event_loop

    // ANCHOR: wait
    /// `io_uring_enter`: submits the queued operations and sleeps until
    /// completions come. After a busy round (at least [`BATCH_FROM`]
    /// completions) it asks for as many again (at most [`MAX_BATCH`]),
    /// waiting at most [`BATCH_WAIT_US`] for them all and then returning
    /// with what has come: under load one call brings back a round's worth
    /// instead of a few, which is what makes its share per request small.
    /// After a lighter round it waits for one: the few clients it serves are
    /// all waiting for their answers, and a batch would only come when the
    /// wait ran out. Idle (the batching wait ended with nothing: ETIME), it
    /// waits for one, for as long as it takes, so an idle server does not
    /// wake every 50 µs. (`--wait batch` holds on after any round of two or
    /// more, `--wait one` never: the experiments the chapter measures.)
    ///
    /// EINTR (a signal arrived) is simply retried: the deadline is an
    /// operation in the ring (a timeout), not an argument of this call, so
    /// a retry cannot stretch it. EBUSY: completions overflowed the queue
    /// and the kernel holds the rest; taking some makes room, so go on.
    /// A kernel before 6.12 has no batching wait: `batch` is `None` from
    /// the start (`Loop::new`), and every wait is for one.
    fn wait(&mut self) -> io::Result<()> {
        loop {
            let result = match self.batch {
                Some(batch) if batch >= self.batch_from => {
                    let args = SubmitArgs::new().min_wait_usec(BATCH_WAIT_US);
                    let want = batch.min(MAX_BATCH);
                    self.ring.submitter().submit_with_args(want, &args)
                }
                _ => self.ring.submit_and_wait(1),
            };
            match result {
                Ok(submitted) => {
                    trace!("io_uring_enter: {submitted} submitted");
                    return Ok(());
                }
                Err(err) if plumbing::interrupted(&err) => {
                    trace!("io_uring_enter: EINTR, retrying")
                }
                Err(err) if err.raw_os_error() == Some(libc::ETIME) => {
                    trace!("io_uring_enter: nothing within {BATCH_WAIT_US} µs (ETIME)");
                    self.batch = Some(0);
                    return Ok(());
                }
                Err(err) if err.raw_os_error() == Some(libc::EBUSY) => return Ok(()),
                Err(err) => return Err(err),
            }
        }
    }
    // ANCHOR_END: wait

    // ANCHOR: completions
    /// A `recv` completed: bytes in a pool buffer (the completion says
    /// which), EOF (0), or an error. `IORING_CQE_F_MORE` says the multishot
    /// `recv` goes on; without it, it has ended and `settle` may start another.
    fn on_recv(&mut self, token: usize, result: i32, flags: u32) -> io::Result<()> {
        // Whatever happens to the connection, a buffer the kernel filled
        // goes back to the pool, after the protocol has taken the bytes.
        let buffer = cqueue::buffer_select(flags);
        if let Some(client) = self.clients.get_mut(token) {
            if !cqueue::more(flags) {
                client.receiving = false;
                client.cancelling_recv = false;
            }
            let fd = client.stream.as_raw_fd();
            let now = self.now;
            match Received::of(result, flags) {
                Received::Bytes { id, len } => {
                    trace!("recv (read) fd={fd}: {len} bytes (buffer {id})");
                    client.take_input(self.pool.filled(id, len), now);
                }
                // No buffer named: the bytes cannot be found, and any
                // buffer taken instead may be another client's. Cannot
                // happen; if it does, this connection fails, no other.
                Received::Unnamed { len } => {
                    trace!("recv fd={fd}: {len} bytes in no named buffer (no IORING_CQE_F_BUFFER)");
                    client.failed = true;
                }
                Received::Eof if client.stash.is_empty() => {
                    trace!("recv fd={fd}: EOF");
                    client.state.received_eof(now);
                }
                Received::Eof => client.stashed_eof = true,
                // A kernel before 6.0 refuses multishot recv: fall back.
                Received::Failed(n) if -n == libc::EINVAL && self.recv_shots == Shots::Multi => {
                    trace!(
                        "recv fd={fd}: multishot refused (EINVAL), falling back to single receives"
                    );
                    self.recv_shots = Shots::Single;
                }
                // Stopped by `settle` (backpressure or closing).
                Received::Failed(n) if -n == libc::ECANCELED => trace!("recv fd={fd}: stopped"),
                // No free buffer in the pool this round: submitted again.
                Received::Failed(n) if -n == libc::ENOBUFS => {
                    trace!("recv fd={fd}: ENOBUFS, again")
                }
                // Interrupted before anything was read: submitted again.
                Received::Failed(n) if -n == libc::EINTR || -n == libc::EAGAIN => {
                    trace!("recv fd={fd}: {}, again", errno(n))
                }
                Received::Failed(n) => {
                    trace!("recv fd={fd}: {}", errno(n));
                    client.failed = true;
                }
            }
        }
        if let Some(id) = buffer {
            self.pool.give_back(id);
        }
        self.settle(token)
    }

    /// A `send` completed: how many bytes went out, or an error. The kernel
    /// is done with the lent bytes: they go back to the protocol, which
    /// keeps a tail that did not go out (with MSG_WAITALL only an error
    /// leaves one) first in line for the next send.
    fn on_send(&mut self, token: usize, result: i32) -> io::Result<()> {
        let Some(client) = self.clients.get_mut(token) else {
            return Ok(());
        };
        let fd = client.stream.as_raw_fd();
        client.cancelling_send = false;
        let Some(lent) = client.sending.take() else {
            return Ok(());
        };
        client.gather = None;
        let offered = lent.len();
        let sent = match result {
            n if n >= 0 => {
                trace!("send (write) fd={fd}: {n} of {offered} bytes");
                n as usize
            }
            n if -n == libc::EINTR || -n == libc::EAGAIN => {
                trace!("send fd={fd}: {}, again", errno(n));
                0
            }
            // EPIPE, ECONNRESET: the client is gone; ECANCELED: closing.
            n => {
                trace!("send fd={fd}: {}", errno(n));
                client.failed = true;
                0
            }
        };
        client.state.returned(lent, sent, self.now);
        self.settle(token)
    }
    // ANCHOR_END: completions

    // ANCHOR: settle
    /// After anything happened to a connection: close it if it is done and
    /// nothing of it is in flight (cancel what is, first); otherwise keep a
    /// `recv` in flight while the protocol has room for input, a `send`
    /// while it has output, and its timer in line with its deadline.
    fn settle(&mut self, token: usize) -> io::Result<()> {
        let Some(client) = self.clients.get_mut(token) else {
            return Ok(());
        };
        let fd = Fd(client.stream.as_raw_fd());
        client.feed_stash(self.now);
        let done = client.is_done();
        if done && !client.in_flight() {
            trace!("close fd={}", fd.0);
            self.clients.remove(token);
            self.accept_after = None; // an fd is free: accept again
            return Ok(());
        }
        // Stop the `recv` when closing (closing the fd now would leave the
        // kernel working on a freed slot: close on its completion instead),
        // or when bytes are stashed (backpressure: no room for more).
        if client.receiving && !client.cancelling_recv && (done || !client.wants_recv()) {
            client.cancelling_recv = true;
            trace!("recv fd={}: cancelling", fd.0);
            queue(&mut self.ring, ops::cancel(Op::Recv(token)), Op::Cancel)?;
        }
        if done {
            if let Some(bytes) = client.sending.as_ref().filter(|_| !client.cancelling_send) {
                client.cancelling_send = true;
                trace!("send fd={}: cancelling {} bytes", fd.0, bytes.len());
                queue(&mut self.ring, ops::cancel(Op::Send(token)), Op::Cancel)?;
            }
        } else {
            file::queue_wanted(&mut self.ring, client, token, self.now)?;
            if !client.receiving && client.wants_recv() {
                client.receiving = true;
                let recv = ops::recv(fd, self.recv_shots, client.state.read_capacity());
                queue(&mut self.ring, recv, Op::Recv(token))?;
            }
            if client.sending.is_none()
                && let Some(lent) = client.state.lend_output()
            {
                // Lent, not copied: the protocol writes what comes next
                // into a new buffer until the send completes; a body that
                // lives as long as the program follows from where it is.
                let lent = client.sending.insert(lent);
                let send = ops::send(fd, lent, &mut client.gather);
                queue(&mut self.ring, send, Op::Send(token))?;
            }
            self.timers
                .schedule(token, client.state.next_deadline(), &mut client.armed);
        }
        Ok(())
    }
    // ANCHOR_END: settle

    // ANCHOR: fire_timers
    /// Fires every timer that is due (stale heap entries are skipped);
    /// `settle` queues the send of what each released.
    fn fire_timers(&mut self, now: Instant) -> io::Result<()> {
        for token in self.timers.due(now, &mut self.clients) {
            if let Some(client) = self.clients.get_mut(token) {
                client.state.fire(now);
            }
            self.settle(token)?;
        }
        Ok(())
    }
    // ANCHOR_END: fire_timers

    /// Shutdown: the accept in flight is cancelled, and every idle
    /// connection is closed (its `recv` cancelled first).
    fn stop(&mut self) -> io::Result<()> {
        self.stopping = true;
        self.stop_accepting()?;
        for token in self.clients.tokens() {
            self.settle(token)?;
        }
        Ok(())
    }

    /// Queues `entry`, tagged as `op`.
    fn push(&mut self, entry: squeue::Entry, op: Op) -> io::Result<()> {
        queue(&mut self.ring, entry, op)
    }
}
