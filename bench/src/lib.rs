//! # bench: a load generator for the iomodels servers
//!
//! One binary, `bench`, with subcommands in the style of wrk, ab and tcpkali.
//! Every server in this workspace is held to figures this tool measures, so
//! it is built to be trusted and to stay out of the way:
//!
//! - **One event loop per thread**, on mio (edge-triggered epoll), as wrk runs
//!   its own epoll loop: no thread per connection, no async runtime.
//! - **Every response is checked**: status 200, a parseable head with
//!   `Content-Length`, and exactly that many body bytes. A wrong or truncated
//!   answer is an error of a named kind, never a success.
//! - **No coordinated omission under `--rate`**: latency counts from the
//!   *planned* send time, so requests that queued behind a stall are charged
//!   for the wait (wrk2's correction).
//! - **Nothing hangs**: every request has a `--timeout`, every run a stop.
//!
//! # Modes
//!
//! - `load URL`: HTTP GET (or HEAD) over `-c` connections for `-d` seconds or
//!   `-n` requests; `--no-keepalive` opens a connection per request as `ab`
//!   does; `--pipeline K` sends K requests before reading; `--rate R` paces.
//!
//! # Error kinds
//!
//! `connect` (refused, unreachable), `read` (reset, or the server closed with
//! a request unanswered), `write` (the request could not be sent), `timeout`
//! (no complete answer within `--timeout`), `status` (not 200, or a malformed
//! head), `body` (EOF inside a body, or bytes no request asked for).
//!
//! # JSON fields (`load --json`)
//!
//! `url`, `connections`, `threads`, `keepalive`, `pipeline`, `rate` (null
//! unless `--rate`), `elapsed_s`, `requests` (valid 200s), `requests_per_s`,
//! `bytes` (received), `mb_per_s`, `latency` {`p50_us`, `p90_us`, `p99_us`,
//! `p999_us`, `max_us`, `mean_us`}, `errors` {`connect`, `read`, `write`,
//! `timeout`, `status`, `body`}, `per_connection_min`, `per_connection_max`.
//!
//! # Layout
//! - [`load`]: the HTTP load engine.
//! - [`response`]: the client-side response parser.
//! - [`stats`]: error kinds, histograms, percentiles.
//! - [`target`]: URLs and requests.
//! - [`net`]: connect helpers and the fd limit.

pub mod load;
pub mod net;
pub mod response;
pub mod stats;
pub mod target;
