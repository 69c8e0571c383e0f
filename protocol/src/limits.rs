//! Every limit and timeout of the protocol, in one place, with the reason for its value.
//!
//! The servers never invent a limit of their own: they ask the connection
//! ([`crate::Connection::read_capacity`], [`crate::Connection::next_deadline`]),
//! and the connection applies these.

use std::time::Duration;

/// Longest request head (request line + headers + blank line) we accept: 8 KiB,
/// nginx's default `large_client_header_buffers` size. Longer heads get 431.
pub const MAX_HEAD: usize = 8 * 1024;

/// Most unparsed input a connection holds: room for one full head plus the
/// start of the next pipelined one. Past this it stops asking for reads.
pub const MAX_INPUT: usize = 2 * MAX_HEAD;

/// Most unsent output a connection holds (docs/src/contract.md §4): 64 KiB, the default socket
/// send buffer's order of size. Past this the connection stops reading (echo)
/// or stops producing responses (HTTP) until the client reads: backpressure.
pub const MAX_UNSENT: usize = 64 * 1024;

/// How long a client may take to send a complete request head, from its first
/// byte (docs/src/contract.md §3): 10 s, then 408. This is what stops a slowloris client.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Default for `--idle-timeout`: a keep-alive connection that moves no byte in
/// either direction for this long is closed quietly.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest `/delay/<ms>`: one minute, the default idle timeout.
pub const MAX_DELAY_MS: u64 = 60_000;

/// Largest `/bytes/<n>`: 16 MiB, enough to see a slow reader's backpressure.
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Largest `/cpu/<us>`: one second of CPU, enough to stall any event loop visibly.
pub const MAX_CPU_US: u64 = 1_000_000;
