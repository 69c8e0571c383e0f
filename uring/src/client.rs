//! One client of the io_uring loop: its socket, its protocol state, what it
//! has in flight, and the stash for bytes a multishot `recv` brought beyond
//! the protocol's room.

use std::ffi::CString;
use std::fs::File;
use std::net::TcpStream;
use std::time::Instant;

use plumbing::admission::Place;
use plumbing::shutdown;
use plumbing::timers::Timed;
use protocol::{Connection, Lent};

use crate::ops::Gather;

// ANCHOR: client
/// One client, and the operations it has in flight: at most one `recv` and
/// one `send`. Its slot is freed only when neither is in flight, because
/// the kernel may still write into, or read from, what they point at.
pub(crate) struct Client {
    /// The socket. Blocking mode: io_uring never blocks the loop on it.
    pub(crate) stream: TcpStream,
    /// The protocol state: bytes in, bytes out, deadlines.
    pub(crate) state: Connection,
    /// A multishot `recv` is in flight: it completes every time data
    /// arrives, into a pool buffer the kernel picks (see `Pool`), until it
    /// is cancelled or ends (EOF, an error, an empty pool).
    pub(crate) receiving: bool,
    /// The `recv` was asked to stop: backpressure or closing.
    pub(crate) cancelling_recv: bool,
    /// Bytes received beyond the protocol's room (a multishot `recv` does
    /// not know the room). The `recv` is stopped while any are here: they
    /// are fed first when room comes back, then the `recv` resumes.
    pub(crate) stash: Vec<u8>,
    /// EOF arrived behind stashed bytes: handed over once they are.
    pub(crate) stashed_eof: bool,
    /// The bytes of the `send` in flight: the protocol's output, lent
    /// (`Connection::lend_output`), not copied. **This is the known
    /// use-after-free of the model, avoided:** the kernel reads these bytes
    /// after `push` returns, so they must not move or be freed until the
    /// send completes. Lent, they are out of the protocol's reach (a
    /// pipelined request or a timer writes into a new buffer meanwhile),
    /// touched by nothing but the completion, which hands them back
    /// (`Connection::returned`); and the slot that holds them is not freed
    /// while this is `Some` (moving the slot moves the `Vec`'s pointer, not
    /// the bytes it points to).
    pub(crate) sending: Option<Lent>,
    /// The header of a gathered send in flight (the lent bytes, then a body
    /// piece from where it lives): boxed, so that it stays put if the slot
    /// moves, until the completion.
    pub(crate) gather: Option<Box<Gather>>,
    /// The `send` was asked to stop: closing.
    pub(crate) cancelling_send: bool,
    /// A `--root` file's open file and operations: boxed, and there only
    /// while a file is wanted or open (most connections never open one).
    pub(crate) file_io: Option<Box<FileIo>>,
    /// A `recv` or `send` failed for real (a reset): close it.
    pub(crate) failed: bool,
    /// Its live entry in the timer heap (`plumbing::timers`).
    pub(crate) armed: Option<Instant>,
    /// Its place under `--max-conns`, given back when it is dropped.
    pub(crate) _place: Place,
}
// ANCHOR_END: client

/// A connection's `--root` file, opened and read through the ring.
#[derive(Default)]
pub(crate) struct FileIo {
    /// The file being sent, once opened.
    pub(crate) file: Option<File>,
    /// The path of the `openat` in flight: the kernel may read it after
    /// `push` returns, so it stays here until the completion.
    pub(crate) opening: Option<CString>,
    /// The buffer of the file `read` in flight: the kernel writes into it
    /// after `push` returns, so it stays here, unmoved and untouched, until
    /// the completion hands its bytes to the protocol.
    pub(crate) reading: Option<Vec<u8>>,
}

impl FileIo {
    /// An `openat` or a `read` is in the kernel's hands.
    pub(crate) fn in_flight(&self) -> bool {
        self.opening.is_some() || self.reading.is_some()
    }
}

impl Timed for Client {
    fn armed(&mut self) -> &mut Option<Instant> {
        &mut self.armed
    }
}

impl Client {
    /// What a client is made of, field by field, its protocol state too.
    pub(crate) fn layout() -> protocol::layout::Part {
        protocol::layout!(Client {
            stream,
            state,
            receiving,
            cancelling_recv,
            stash,
            stashed_eof,
            sending,
            gather,
            cancelling_send,
            file_io,
            failed,
            armed,
            _place
        })
        .expand("state", protocol::Connection::layout())
    }

    /// Done: answered and closing, failed, or idle at shutdown.
    pub(crate) fn is_done(&self) -> bool {
        self.failed || self.state.is_closed() || (shutdown::requested() && self.state.is_idle())
    }

    /// Something of it is still in the kernel's hands.
    pub(crate) fn in_flight(&self) -> bool {
        self.receiving
            || self.sending.is_some()
            || self.file_io.as_ref().is_some_and(|io| io.in_flight())
    }

    /// Bytes a `recv` brought: to the protocol as far as it has room, the
    /// rest to the stash (behind what is there already: order is kept).
    pub(crate) fn take_input(&mut self, bytes: &[u8], now: Instant) {
        let room = match self.stash.is_empty() {
            true => self.state.read_capacity().min(bytes.len()),
            false => 0,
        };
        if room > 0 {
            self.state.received(&bytes[..room], now);
        }
        self.stash.extend_from_slice(&bytes[room..]);
    }

    /// Hands stashed bytes (and an EOF behind them) to the protocol as room allows.
    pub(crate) fn feed_stash(&mut self, now: Instant) {
        let room = self.state.read_capacity().min(self.stash.len());
        if room > 0 {
            self.state.received(&self.stash[..room], now);
            self.stash.drain(..room);
            if self.stash.is_empty() {
                self.stash = Vec::new(); // an idle connection holds no buffer
            }
        }
        if self.stash.is_empty() && self.stashed_eof {
            self.stashed_eof = false;
            self.state.received_eof(now);
        }
    }

    /// Whether a `recv` should be in flight: the protocol has room, nothing
    /// is stashed, and the peer has not ended.
    pub(crate) fn wants_recv(&self) -> bool {
        self.state.read_capacity() > 0 && self.stash.is_empty() && !self.stashed_eof
    }
}
