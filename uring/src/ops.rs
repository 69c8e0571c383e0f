//! What goes into the ring and what comes out: the kinds of operation and
//! how each is named in its `user_data`, the one place an operation is
//! queued, and what a `recv` completion says.

use std::ffi::CStr;
use std::io;

use io_uring::types::{Fd, Timespec};
use io_uring::{IoUring, cqueue, opcode, squeue};
use nix::libc;

use protocol::Lent;

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
    /// An `openat` of the `--root` file connection `token` asked for.
    Open(usize),
    /// A `read` of that file, for connection `token`.
    Read(usize),
}

impl Op {
    pub(crate) fn pack(self) -> u64 {
        match self {
            Op::Accept => 0,
            Op::Timer => 1,
            Op::Cancel => 3,
            Op::Recv(token) => 4 | (token as u64) << 3,
            Op::Send(token) => 5 | (token as u64) << 3,
            Op::Open(token) => 6 | (token as u64) << 3,
            Op::Read(token) => 7 | (token as u64) << 3,
        }
    }

    pub(crate) fn unpack(data: u64) -> Op {
        let token = (data >> 3) as usize;
        match data & 7 {
            0 => Op::Accept,
            1 => Op::Timer,
            3 => Op::Cancel,
            4 => Op::Recv(token),
            5 => Op::Send(token),
            6 => Op::Open(token),
            _ => Op::Read(token),
        }
    }
}
// ANCHOR_END: op

/// An accept on `listener`. Multishot, one operation completes once per
/// client until it stops (Linux 5.19); single, once. Each client's fd is
/// opened `SOCK_CLOEXEC`, as std's `accept` opens every other model's.
pub(crate) fn accept(listener: Fd, shots: Shots) -> squeue::Entry {
    match shots {
        Shots::Multi => opcode::AcceptMulti::new(listener)
            .flags(libc::SOCK_CLOEXEC)
            .build(),
        Shots::Single => opcode::Accept::new(listener, std::ptr::null_mut(), std::ptr::null_mut())
            .flags(libc::SOCK_CLOEXEC)
            .build(),
    }
}

/// The loop's timeout, `timespec` from now: it completes with ETIME when
/// that time has passed. The kernel copies `timespec` when the entry is
/// submitted (see `queue`).
pub(crate) fn timeout(timespec: &Timespec) -> squeue::Entry {
    opcode::Timeout::new(timespec).build()
}

/// Asks the kernel to stop the operation `op` in flight. That operation
/// then completes with ECANCELED (or with its result, if it was done first).
pub(crate) fn cancel(op: Op) -> squeue::Entry {
    opcode::AsyncCancel::new(op.pack()).build()
}

/// A `recv` on `fd` with no buffer: BUFFER_SELECT lets the kernel pick one
/// from the pool when data arrives. Multishot, it completes every time data
/// arrives, for as long as it lasts (with one `recv` per read instead, the
/// kernel sets up its internal poll for every request: `uring --shots
/// single` in `bench compare`'s tables shows what that costs). Single, it
/// reads at most `room` bytes, what the protocol has room for.
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
/// EPIPE and no SIGPIPE at all (Rust ignores SIGPIPE before `main`, so this
/// is for the reader who ports it to C, where SIGPIPE ends the process by
/// default). MSG_WAITALL: when the
/// socket takes only part, the kernel waits for room and sends the rest
/// itself (Linux 5.19's retry of short stream sends), so one completion
/// says all went, instead of one per part with a loop round between them.
/// The caller keeps `bytes` alive and unmoved until the completion (see
/// `queue`).
///
/// With a body piece after the bytes (`Lent::body`: the `/bytes` pattern, an
/// embedded file, sent from where they live), it is a `sendmsg` of two
/// pieces instead, whose header `gather` keeps until the completion.
pub(crate) fn send(fd: Fd, lent: &Lent, gather: &mut Option<Box<Gather>>) -> squeue::Entry {
    let flags = libc::MSG_NOSIGNAL | libc::MSG_WAITALL;
    if lent.body.is_empty() {
        let bytes = &lent.bytes;
        return opcode::Send::new(fd, bytes.as_ptr(), bytes.len() as u32)
            .flags(flags)
            .build();
    }
    let gather = gather.insert(Box::new(Gather::of(lent)));
    gather.aim();
    opcode::SendMsg::new(fd, &gather.header)
        .flags(flags as u32)
        .build()
}

/// A gathered send's header: where its two pieces are. The kernel reads it
/// when the send is submitted, and the pieces until the send completes.
pub(crate) struct Gather {
    header: libc::msghdr,
    pieces: [libc::iovec; 2],
}

impl Gather {
    /// The header of a send of `lent`'s bytes, then its body piece. Boxed
    /// by the caller before the header points at the pieces, so that the
    /// pointer stays right.
    fn of(lent: &Lent) -> Gather {
        let piece = |bytes: &[u8]| libc::iovec {
            iov_base: bytes.as_ptr().cast_mut().cast(),
            iov_len: bytes.len(),
        };
        // SAFETY: all-zero is a valid msghdr (no name, no control data).
        let header: libc::msghdr = unsafe { std::mem::zeroed() };
        Gather {
            header,
            pieces: [piece(&lent.bytes), piece(lent.body)],
        }
    }

    /// Points the header at the pieces, once the `Gather` is where it stays.
    fn aim(&mut self) {
        self.header.msg_iov = self.pieces.as_mut_ptr();
        self.header.msg_iovlen = self.pieces.len();
    }
}

/// An `openat` of `path`, for reading. The kernel opens it in a worker of
/// its own if the lookup would block (a directory not in the cache), never
/// in the loop. `O_NONBLOCK` as in `plumbing::files::open`: a FIFO in the
/// root must not hold the open.
pub(crate) fn open(path: &CStr) -> squeue::Entry {
    let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC;
    opcode::OpenAt::new(Fd(libc::AT_FDCWD), path.as_ptr())
        .flags(flags)
        .build()
}

/// A `read` of `buf.len()` bytes of file `fd` at `offset`, into `buf`: a
/// `pread`, done by the kernel (from the page cache at once, or by a worker
/// while the loop goes on). The caller keeps `buf` alive and unmoved until
/// the completion (see `queue`).
pub(crate) fn read(fd: Fd, buf: &mut [u8], offset: u64) -> squeue::Entry {
    opcode::Read::new(fd, buf.as_mut_ptr(), buf.len() as u32)
        .offset(offset)
        .build()
}

// ANCHOR: queue
/// Queues `entry` on `ring`, tagged as `op`. (A function of the ring alone,
/// so `settle` can queue while it holds a connection of the table.)
pub(crate) fn queue(ring: &mut IoUring, entry: squeue::Entry, op: Op) -> io::Result<()> {
    let entry = entry.user_data(op.pack());
    // SAFETY: every entry is built in this file, and what each points at
    // outlives it: a send's bytes are the connection's `sending` (a body
    // piece in it is 'static), a gathered send's header its boxed `gather`,
    // an openat's path its `file_io.opening`, a read's buffer its
    // `file_io.reading`, each freed only by the operation's completion, and
    // its slot is not freed while any of them is in flight; a recv points
    // at no memory of ours until the kernel picks a pool buffer ('static);
    // a timeout's timespec is copied by the kernel at submit and lives in
    // the `Loop` until then; accept and cancel point at nothing.
    unsafe { sys::push(ring, &entry) }
}
// ANCHOR_END: queue

// ANCHOR: received
/// What a `recv` completion says, read from its result and flags: the one
/// place the loop reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Received {
    /// `len` bytes, in pool buffer `id` (`IORING_CQE_F_BUFFER` names it).
    Bytes { id: u16, len: usize },
    /// `len` bytes, but no buffer named. The kernel names the buffer of
    /// every `recv` that took one from the pool, so this cannot happen; if
    /// it did, the bytes could not be found, and any buffer taken instead
    /// (buffer 0, say) may hold another client's bytes. The loop fails the
    /// connection rather than guess.
    Unnamed { len: usize },
    /// The peer closed its side (EOF).
    Eof,
    /// An error: the negative errno.
    Failed(i32),
}

impl Received {
    pub(crate) fn of(result: i32, flags: u32) -> Received {
        match (result, cqueue::buffer_select(flags)) {
            (n, Some(id)) if n > 0 => Received::Bytes {
                id,
                len: n as usize,
            },
            (n, None) if n > 0 => Received::Unnamed { len: n as usize },
            (0, _) => Received::Eof,
            (n, _) => Received::Failed(n),
        }
    }
}
// ANCHOR_END: received

/// A completion's negative result as an error name, for trace lines.
pub(crate) fn errno(result: i32) -> io::Error {
    io::Error::from_raw_os_error(-result)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The completion flags, from the kernel's include/uapi/linux/io_uring.h.
    const IORING_CQE_F_BUFFER: u32 = 1 << 0;
    const IORING_CQE_F_MORE: u32 = 1 << 1;
    const IORING_CQE_BUFFER_SHIFT: u32 = 16;

    /// The flags of a completion that took pool buffer `id`.
    fn buffer(id: u16) -> u32 {
        IORING_CQE_F_BUFFER | u32::from(id) << IORING_CQE_BUFFER_SHIFT
    }

    #[test]
    fn a_recv_completion_says_bytes_eof_or_an_error() {
        assert_eq!(
            Received::of(89, buffer(7)),
            Received::Bytes { id: 7, len: 89 }
        );
        assert_eq!(
            Received::of(1, buffer(0)),
            Received::Bytes { id: 0, len: 1 }
        );
        assert_eq!(Received::of(0, 0), Received::Eof);
        assert_eq!(Received::of(0, buffer(3)), Received::Eof);
        let reset = -libc::ECONNRESET;
        assert_eq!(Received::of(reset, 0), Received::Failed(reset));
        assert_eq!(
            Received::of(-libc::ENOBUFS, 0),
            Received::Failed(-libc::ENOBUFS)
        );
    }

    #[test]
    fn bytes_without_a_buffer_id_are_not_taken_from_buffer_0() {
        // IORING_CQE_F_BUFFER unset: `buffer_select` is None, and the old
        // `unwrap_or_default()` would have read pool buffer 0.
        assert_eq!(Received::of(5, 0), Received::Unnamed { len: 5 });
        assert_eq!(
            Received::of(4096, IORING_CQE_F_MORE),
            Received::Unnamed { len: 4096 }
        );
    }
}
