//! # loadgen: the load generator of the iomodels servers
//!
//! The modes of the `bench` binary that a user runs instead of wrk, ab or
//! tcpkali (`bench load`, `echo`, `hold`), and the engines the lab (the
//! `bench` crate) drives. It knows nothing of the lab: the lab depends on
//! it, never the other way. Every server in this workspace is held to
//! figures this tool measures, so it is built to be trusted and to stay out
//! of the way:
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
//! - `echo ADDR`: messages of `--size` bytes over `-c` connections; each
//!   waits for all of its message back (a short read is not a failure),
//!   compares it byte for byte, and sends the next.
//! - `hold URL -n N`: the long-connection test. Ramp up to N keep-alive
//!   connections (`--ramp 10/10ms`), keep each alive with a HEAD every
//!   1..keepalive/2 s, and report each second how many are open, refused,
//!   reset, timed out, with the server's RSS and CPU (`--pid`: the process
//!   and its direct children) and, at the end, the bench's own peak RSS.
//!
//! With `--pid PID` (the lab passes it for the servers it starts) every
//! mode also counts what the server cost per request, per message for
//! echo: CPU time, user and system apart, system calls, and context
//! switches, voluntary and involuntary, for its whole process tree, from
//! the kernel's counters (see [`cost`]); and always the bench's own share
//! of a core.
//!
//! # Fooling nobody
//!
//! - *Coordinated omission*: a closed-loop client (send, wait, send) slows
//!   down when the server stalls and so never measures the stall's cost to
//!   the requests it did not send. `--rate` keeps the schedule and charges
//!   every request from its planned time.
//! - *Validation*: a fast wrong answer is not throughput. Every response is
//!   parsed and counted by kind when wrong.
//! - *Sharing the machine*: the bench and the server share 2 cores. One bench
//!   thread (`-t 1`) leaves a core to a one-thread server; compare servers in
//!   one run, in interleaved rounds, as ratios and medians with their
//!   spread, never against numbers from another day.
//! - *Measuring the client*: where the bench's core was full and the
//!   server's was not, the rate is the client's; `compare` marks such a
//!   cell `client-bound` and does not rank it ([`cost::client_bound`]).
//! - *The client's sleep is the server's cost*: `load` polls for up to 50 µs
//!   after a batch of answers before it sleeps, because waking a sleeping
//!   client is paid on the server's CPU (see `net::wait_spinning`). Under
//!   load the bench therefore keeps its own core busy.
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
//! `timeout`, `status`, `body`}, `per_connection_min`, `per_connection_max`,
//! and `server` and `client` (below).
//!
//! `echo --json`: `addr`, `connections`, `size`, `elapsed_s`, `messages`,
//! `messages_per_s`, `mb_per_s`, `latency`, `mismatches`, `errors`,
//! `server`, `client`.
//!
//! `hold --json`: `url`, `target`, `held_max`, `held_at_end`, `refused`,
//! `reset`, `timed_out`, `bad_answers`, `requests`, `server_rss_before`,
//! `server_rss_full`, `server_bytes_per_connection`, `bench_peak_rss`,
//! `bench_rss_full` (bytes), `bench_cpu_percent`,
//! `kernel_stack_per_connection` (bytes, the machine's), `server`,
//! `client`, and `samples`, one a second: {`t_s`, `open`, `refused`,
//! `reset`, `timed_out`, `requests`, `server_rss`, `server_cpu_percent`}.
//!
//! `server`, what the server cost over the run (per request; per message
//! for echo, where `_per_request` reads `_per_message`):
//! `cpu_us_per_request`, `user_us_per_request`, `sys_us_per_request`,
//! `syscalls_per_request`, `context_switches_per_request`,
//! `voluntary_switches_per_request`, `involuntary_switches_per_request`,
//! `cpu_share` (of one core: 1.0 is a whole core), and `missing`, an object
//! that names each figure that is `null` and says why (no `--pid`, no
//! permission for perf events, no tracefs). `client`: `cpu_share`, the
//! bench's own.
//!
//!
//! # Layout
//! - [`cli`]: the modes' flags; [`modes`]: each mode as the binary runs it,
//!   from its flags to its report and exit.
//! - [`load`]: the HTTP load engine.
//! - [`echo`]: the echo driver.
//! - [`hold`]: the long-connection holder.
//! - [`clients`]: the sources' thread-per-client clients (ten sleepers,
//!   100 hello threads), and `wrk` and `ab` run and read.
//! - [`cost`]: what the server costs, counted by the kernel: CPU time,
//!   system calls and context switches per request.
//! - [`procfs`]: memory and CPU from `/proc`.
//! - [`response`]: the framing of the responses, their heads parsed by
//!   `httparse`.
//! - [`stats`]: error kinds, histograms, percentiles.
//! - [`target`]: URLs and requests.
//! - [`net`]: connect helpers and the fd limit.
//! - `sys`: the one unsafe call, a perf counter's filter.

pub mod cli;
pub mod clients;
pub mod cost;
pub mod echo;
pub mod hold;
pub mod load;
pub mod modes;
pub mod net;
pub mod procfs;
pub mod response;
pub mod stats;
mod sys;
pub mod target;

/// Why a mode stopped: a command line it cannot act on (exit 2, as for
/// clap's own usage errors: a `--pid` with no process, an `--only` that
/// names no server), or a run that failed or measured nothing (exit 1).
pub enum Failure {
    /// Exit 2.
    Usage(String),
    /// Exit 1.
    Run(String),
}

impl From<String> for Failure {
    fn from(why: String) -> Failure {
        Failure::Run(why)
    }
}
