//! The sans-IO core of iomodels: everything a server does except waiting for
//! the kernel and moving bytes.
//!
//! Every model crate (blocking, select, epoll, io_uring, ...) owns its sockets
//! and its clock and drives one [`Connection`] per client. The connection holds
//! the parsing, routing, limits and timers, and nothing else: no socket, no
//! clock (time is an argument), no `unsafe`. That is what lets twelve very
//! different servers give byte-for-byte the same answers, and lets the tests
//! here feed any split of any input without a network.
//!
//! # Two ways to drive a connection
//!
//! Like python-hyper's h11, the same state machine is driven in two shapes,
//! and the models fall into exactly these two families.
//!
//! **Pull** (blocking, forking, threaded, coroutine): the code reads when it
//! wants input and blocks until it comes.
//!
//! ```text
//! loop {
//!     write all of conn.output(), calling conn.sent(n, now) after each write
//!     if conn.is_closed() { close; break }
//!     read with a timeout of conn.next_deadline() - now
//!         n > 0   => conn.received(&buf[..n], now)
//!         0       => conn.received_eof(now)
//!         timeout => conn.fire(now)
//! }
//! ```
//!
//! **Push** (select, poll, epoll, signal-driven, io_uring, async): the loop is
//! told what is ready (or done) and does only what does not block.
//!
//! ```text
//! interest: read if conn.read_capacity() > 0, write if conn.wants_write()
//! wait for readiness, timeout = earliest conn.next_deadline()
//! readable => read at most read_capacity() bytes, conn.received / received_eof
//! writable => write conn.output(), conn.sent(n, now)
//! deadline => conn.fire(now)
//! then: if conn.is_closed() close it, else update its interest
//! ```
//!
//! Incomplete input is never an error: a half-received head just waits for
//! more bytes (or for its 408 deadline).
//!
//! # Layout
//!
//! - [`connection`]: the per-connection state machine, [`Connection`].
//! - [`request`]: finding and parsing a request head.
//! - [`route`]: from a request target to a file or a teaching route.
//! - [`site`]: the embedded default site, `--root` directories, path safety.
//! - `response` (private): status lines, headers, bodies made in chunks.
//! - [`service`]: the configuration every connection shares.
//! - [`limits`]: every limit and timeout, with the reason for its value.
//! - [`error`]: [`Rejection`], why a request was refused, and its status.
//! - [`mod@layout`]: what a value is made of, field by field: the sizes the
//!   book's "what a held connection is made of" tables show.
#![forbid(unsafe_code)]

pub mod connection;
pub mod error;
pub mod layout;
pub mod limits;
pub mod request;
mod response;
pub mod route;
pub mod service;
pub mod site;

pub use connection::{Connection, Lent};
pub use error::Rejection;
pub use service::{Proto, Service};
pub use site::{FileError, FileWant, Site};
