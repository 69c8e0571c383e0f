//! What goes into the ring: the kinds of operation and how each is named in
//! its `user_data`, and the one place an operation is queued.

use std::io;

use io_uring::types::Fd;
use io_uring::{IoUring, opcode, squeue};
use nix::libc;

use crate::Shots;
use crate::sys::{self, GROUP, POOL_BUFFER_SIZE};

// ANCHOR: op
/// What a completion is about. The kernel hands back, untouched, the 64-bit
/// `user_data` each operation was submitted with: the loop packs the kind
/// of operation into its low 3 bits and the connection's token above them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// An accept on the listener (multishot: one per client until it stops).
    Accept,
    /// The loop's timeout: the earliest deadline came.
    Timer,
    /// A cancellation (its own result is of no interest: the cancelled
    /// operation completes too, with ECANCELED).
    Cancel,
    /// A `recv` for connection `token`.
    Recv(usize),
    /// A `send` for connection `token`.
    Send(usize),
}

impl Op {
    pub(crate) fn pack(self) -> u64 {
        match self {
            Op::Accept => 0,
            Op::Timer => 1,
            Op::Cancel => 3,
            Op::Recv(token) => 4 | (token as u64) << 3,
            Op::Send(token) => 5 | (token as u64) << 3,
        }
    }

    pub(crate) fn unpack(data: u64) -> Op {
        let token = (data >> 3) as usize;
        match data & 7 {
            0 => Op::Accept,
            1 => Op::Timer,
            3 => Op::Cancel,
            4 => Op::Recv(token),
            _ => Op::Send(token),
        }
    }
}
// ANCHOR_END: op

/// Asks the kernel to stop the operation `op` in flight. That operation
/// then completes with ECANCELED (or with its result, if it was done first).
pub(crate) fn cancel(op: Op) -> squeue::Entry {
    opcode::AsyncCancel::new(op.pack()).build()
}

/// A `recv` on `fd` with no buffer: BUFFER_SELECT lets the kernel pick one
/// from the pool when data arrives. Multishot, it completes every time data
/// arrives, for as long as it lasts (with one `recv` per read instead, the
/// kernel sets up its internal poll for every request: 0.99x epoll's
/// requests/s, against 1.09x with multishot, in one run of
/// `bench/compare-completions.sh 9`). Single, it reads at most `room` bytes,
/// what the protocol has room for.
pub(crate) fn recv(fd: Fd, shots: Shots, room: usize) -> squeue::Entry {
    match shots {
        Shots::Multi => opcode::RecvMulti::new(fd, GROUP).build(),
        Shots::Single => {
            opcode::Recv::new(fd, std::ptr::null_mut(), room.min(POOL_BUFFER_SIZE) as u32)
                .buf_group(GROUP)
                .build()
                .flags(squeue::Flags::BUFFER_SELECT)
        }
    }
}

/// A `send` of `bytes` on `fd`. MSG_NOSIGNAL: a peer that reset gives
/// EPIPE, not a SIGPIPE that would end the process. The caller keeps
/// `bytes` alive and unmoved until the completion (see `queue`).
pub(crate) fn send(fd: Fd, bytes: &[u8]) -> squeue::Entry {
    opcode::Send::new(fd, bytes.as_ptr(), bytes.len() as u32)
        .flags(libc::MSG_NOSIGNAL)
        .build()
}

// ANCHOR: queue
/// Queues `entry` on `ring`, tagged as `op`. (A function of the ring alone,
/// so `settle` can queue while it holds a connection of the table.)
pub(crate) fn queue(ring: &mut IoUring, entry: squeue::Entry, op: Op) -> io::Result<()> {
    let entry = entry.user_data(op.pack());
    // SAFETY: what the entries of this file point at outlives them: a
    // send's bytes are the connection's `sending`, freed only by its
    // completion, and its slot is not freed while it is in flight; a recv
    // points at no memory of ours until the kernel picks a pool buffer
    // ('static); the timespec is copied by the kernel at submit and lives
    // in the `Loop` until then; accept and cancel point at nothing.
    unsafe { sys::push(ring, &entry) }
}
// ANCHOR_END: queue

/// A completion's negative result as an error name, for trace lines.
pub(crate) fn errno(result: i32) -> io::Error {
    io::Error::from_raw_os_error(-result)
}
