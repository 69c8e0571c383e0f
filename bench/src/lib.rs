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
//! - `echo ADDR`: messages of `--size` bytes over `-c` connections; each
//!   waits for all of its message back (a short read is not a failure),
//!   compares it byte for byte, and sends the next.
//! - `hold URL -n N`: the long-connection test. Ramp up to N keep-alive
//!   connections (`--ramp 10/10ms`), keep each alive with a HEAD every
//!   1..keepalive/2 s, and report each second how many are open, refused,
//!   reset, timed out, with the server's RSS and CPU (`--pid`: the process
//!   and its direct children) and, at the end, the bench's own peak RSS.
//! - `compare`: every model binary of the workspace, in its model-flag
//!   variants, through the same scenarios (keep-alive, a new connection per
//!   request, 64 KiB answers, `/delay/100` at 1,000 connections, echo, a
//!   hold, 1,100 held, idle, a `/cpu` stall, wrk, ab, ten sleepers, 100
//!   hello threads), one server at a time, in rounds interleaved across the
//!   servers: one table, and JSON, Markdown and charts in a results folder
//!   (see [`compare`] and [`report`]).
//!
//! With `--pid PID` (`compare` passes it for the servers it starts) every
//! mode also counts what the server cost per request, per message for
//! echo: CPU time, user and system apart, system calls, and context
//! switches, voluntary and involuntary, for its whole process tree, from
//! the kernel's counters (see [`cost`]); and always the bench's own share
//! of a core.
//!
//! `cargo bench -p bench` runs `benches/models.rs`, a Criterion suite over
//! every model: one request on a keep-alive connection, and a burst of 16
//! new connections.
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
//! `compare.json`: `rounds`, `run_s`, `hold_connections`, `minutes`,
//! `scenarios` (each `name`, `heading`, `title`, `better`,
//! `per_unit_costs`), `rows` (each `server` and `cells`: `outcome` `ran`
//! with every round, each `value`, `note`, `extra`, `server` and `client`
//! as above; or `cannot` or `failed`, with `why`), `spawn`, the fork
//! against a thread, and `machine`, what the run was measured on
//! ([`machine::Machine`]; `sweeps.json` has it too).
//!
//! # Layout
//! - [`cli`]: the command line of every mode, as a library module (the
//!   book's command test parses with it).
//! - [`load`]: the HTTP load engine.
//! - [`echo`]: the echo driver.
//! - [`hold`]: the long-connection holder.
//! - [`cost`]: what the server costs, counted by the kernel: CPU time,
//!   system calls and context switches per request.
//! - [`procfs`]: memory and CPU from `/proc`.
//! - [`response`]: the client-side response parser.
//! - [`stats`]: error kinds, histograms, percentiles.
//! - [`target`]: URLs and requests.
//! - [`net`]: connect helpers and the fd limit.
//! - [`clients`]: the sources' thread-per-client clients (ten sleepers,
//!   100 hello threads) and `ab`.
//! - [`compare`]: `bench compare`, every model through the same scenarios,
//!   and its sweeps.
//! - [`machine`]: what a run was measured on, recorded with it.
//! - [`report`]: the charts and the book's tables, from `compare.json`.
//! - [`growth`]: the sweeps' tables and curves, from `sweeps.json`.
//! - [`lesson`]: the one chart of each model's lesson, which `report` and
//!   `growth` draw from the saved runs.
//! - [`held`]: what each event loop keeps per idle connection, field by
//!   field, from the types (`held.md`).
//! - [`chart`]: the SVG bar and line charts.
//! - [`cores`]: `bench cores`, the conformance suite against each model's
//!   core.
//! - [`timeline`]: `bench timeline`, every server under `strace` through
//!   one choreography, drawn as swimlanes and a Perfetto trace.
//! - `sys`: the one unsafe call, a perf counter's filter.

pub mod chart;
pub mod cli;
pub mod clients;
pub mod compare;
pub mod cores;
pub mod cost;
pub mod echo;
pub mod growth;
pub mod held;
pub mod hold;
pub mod lesson;
pub mod load;
pub mod machine;
pub mod net;
pub mod procfs;
pub mod report;
pub mod response;
pub mod stats;
mod sys;
pub mod target;
pub mod timeline;
