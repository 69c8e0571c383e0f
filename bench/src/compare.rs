//! `bench compare`: every model binary of the workspace, in each of its flag
//! variants, through the same scenarios, one server at a time.
//!
//! - **Which servers.** Every binary target of the workspace but `bench`
//!   itself, as `cargo metadata` lists them. [`variants`] reads, from the
//!   model crate's declaration ([`crate::models`]), the model flags worth
//!   comparing (`epoll --trigger edge`, `threaded --pool 8`, ...) and each
//!   model's limits; a binary no crate declares runs with no flags.
//! - **Building.** `cargo build --release --workspace --exclude bench --bins`
//!   first: cargo rebuilds what is missing or stale, so the command works
//!   on a fresh clone.
//! - **One server at a time**, on a free port (`--addr 127.0.0.1:0`, then
//!   its `listening on` line), pinned to CPU 0 while the bench runs on CPU 1
//!   (on a machine with two or more), stopped with SIGTERM by its PID.
//! - **A model that cannot run a scenario says why** in the cell (the
//!   blocking server serves one connection at a time; `select` refuses fds
//!   at or above FD_SETSIZE), never a blank.
//! - **nginx, when installed**, is a reference row in the HTTP scenarios
//!   ([`nginx`]), started by `bench/nginx/nginx.sh`.
//! - **The record** of a run, `compare.json` and `sweeps.json`, is typed
//!   ([`record`]): written and read by the same structs.
//!
//! # Layout
//! Here: the variants each model declares, the caps, nginx's row. Around
//! it:
//! - `command`: the run, from its flags to its record; `choose`: which
//!   servers and scenarios; `durations`: how long, how many held.
//! - [`scenario`]: each scenario declared once; `measure`: one round of
//!   each against a running server.
//! - `server`: starting, pinning and stopping a server; `workspace`: what
//!   cargo says of the workspace, building it, and the fork-against-thread
//!   measurement.
//! - [`sweep`]: one ladder climbed; `sweeps`: every server up each ladder;
//!   `memory`: the line through memory against connections held.
//! - [`record`]: `compare.json` and `sweeps.json`; `cell`: a server in a
//!   scenario, over its rounds; `progress`: how far the run is; `table`:
//!   the terminal's table.
//!
//! [`crate::report`] and [`crate::growth`] draw the book's tables and
//! charts from the record.

use std::path::Path;

use model::Limits;
use serde::{Deserialize, Serialize};

mod cell;
mod choose;
mod command;
mod durations;
pub(crate) mod measure;
mod memory;
mod progress;
pub mod record;
pub mod scenario;
mod server;
pub mod sweep;
mod sweeps;
mod table;
mod workspace;

pub use cell::{Cell, Round, median, spread};
pub use command::command;
pub use memory::{MemoryLine, memory_line};
pub use progress::Progress;
pub use scenario::{Better, Durations, Per, Scenario, Theme};
pub use server::{Server, can_start, pin, start};
pub use sweep::{BUSY, SERVER_ARGS, Sweep};
pub use workspace::{Workspace, build, spawn_cost, workspace};

/// The most connections a hold or a sweep asks of a process per
/// connection: a thousand processes are already the lesson.
pub const PROCESS_CAP: usize = 1_000;

/// The most asked of a thread per connection, or of nginx (which reset 256
/// of 19,000 connections opened at 5,000 a second in one full run, why is
/// not known yet; it holds 10,000).
pub const THREAD_CAP: usize = 10_000;

/// Why a server that serves `n` connections at a time cannot run a load
/// of more: the rest would wait in the backlog for ever.
pub fn why_at_a_time(n: usize) -> String {
    match n {
        1 => "one conn. at a time".to_string(),
        n => format!("{n} conn. at a time"),
    }
}

/// One server to measure: a binary and its model flags.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Variant {
    /// The binary and its flags, as the table shows it.
    pub name: String,
    /// The binary's name in `target/release`.
    pub binary: String,
    /// Its model flags.
    pub args: Vec<String>,
    /// What it cannot do, as its model crate declares it (the limits the
    /// conformance suite adjusts to).
    #[serde(skip)]
    pub limits: Limits,
    /// nginx, the reference: static files over HTTP, no routes, no echo.
    #[serde(skip)]
    pub static_only: bool,
}

/// How a table names a variant: its binary and flags, and `(reference)`
/// after a reference's.
pub fn shown_name(binary: &str, args: &[&str]) -> String {
    let mut name = std::iter::once(binary)
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    if crate::models::is_reference(binary) {
        name.push_str(" (reference)");
    }
    name
}

/// The default variant of `binary` as its model crate declares it, with
/// its limits (no flags and no limits for a binary no crate declares).
pub fn declared_default(binary: &str) -> model::Variant {
    crate::models::declared(binary)
        .and_then(|b| b.variants.first().copied())
        .unwrap_or(model::Variant::default_with(Limits::NONE))
}

/// The variants of `binary` to measure, the default first, as its model
/// crate declares them with their limits. A binary no crate declares runs
/// once, with no flags and no limits.
pub fn variants(binary: &str) -> Vec<Variant> {
    declared_variants(binary, true)
}

/// The variants of `binary` its model crate declares but does not measure
/// in every run: experiments, measured when `--only` names them.
pub fn experiments(binary: &str) -> Vec<Variant> {
    match crate::models::declared(binary) {
        Some(_) => declared_variants(binary, false),
        None => Vec::new(),
    }
}

/// The declared variants of `binary` that are (or are not) `measured`.
fn declared_variants(binary: &str, measured: bool) -> Vec<Variant> {
    let Some(declared) = crate::models::declared(binary) else {
        return vec![Variant {
            name: binary.to_string(),
            binary: binary.to_string(),
            args: Vec::new(),
            limits: Limits::NONE,
            static_only: false,
        }];
    };
    declared
        .variants
        .iter()
        .filter(|v| v.measured == measured)
        .map(|v| Variant {
            name: shown_name(binary, v.args),
            binary: binary.to_string(),
            args: v.args.iter().map(|a| a.to_string()).collect(),
            limits: v.limits,
            static_only: false,
        })
        .collect()
}

/// nginx as a reference row, when it is installed (`/usr/sbin/nginx` or on
/// `PATH`): started by `bench/nginx/nginx.sh` with one worker, the same
/// `www/` as root, no access log.
pub fn nginx() -> Option<Variant> {
    let installed = Path::new("/usr/sbin/nginx").exists()
        || std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("nginx").exists()));
    installed.then(nginx_row)
}

/// The nginx row, whether or not nginx is installed.
fn nginx_row() -> Variant {
    Variant {
        name: "nginx (reference)".to_string(),
        binary: "nginx".to_string(),
        args: Vec::new(),
        limits: Limits::NONE,
        static_only: true,
    }
}

/// Runs one round of `scenario` against `variant`, on a server started for
/// it and stopped after.
pub fn measure(
    variant: &Variant,
    scenario: &Scenario,
    workspace: &Workspace,
    durations: &Durations,
) -> Result<Round, String> {
    let server = start(variant, scenario.server_args, workspace)?;
    let run = measure::Run {
        server: &server,
        variant,
        d: durations,
    };
    (scenario.measure)(&run).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(name: &str) -> Variant {
        let binary = name.split(' ').next().unwrap_or_default();
        variants(binary)
            .into_iter()
            .find(|v| v.name == name)
            .unwrap_or_else(|| panic!("no variant {name:?}"))
    }

    /// compare measures what the model crates declare measured: the same
    /// rows as the committed runs, in the same order.
    #[test]
    fn the_measured_variants_are_the_declared_ones() {
        let binaries = [
            "blocking",
            "forking",
            "threaded",
            "nonblocking",
            "select",
            "poll",
            "epoll",
            "epoll-mio",
            "signal_driven",
            "coroutine",
            "async_await",
            "uring",
            "tokio_ref",
        ];
        let names: Vec<String> = binaries
            .iter()
            .flat_map(|b| variants(b))
            .map(|v| v.name)
            .collect();
        assert_eq!(
            names,
            [
                "blocking",
                "forking",
                "forking --workers 2",
                "threaded",
                "threaded --pool 8",
                "nonblocking",
                "select",
                "poll",
                "epoll",
                "epoll --trigger edge",
                "epoll --workers 2",
                "epoll-mio",
                "signal_driven",
                "signal_driven --sigpending 1",
                "coroutine",
                "coroutine --workers 2",
                "async_await",
                "uring",
                "uring --shots single",
                "tokio_ref (reference)",
                "tokio_ref --workers 2 (reference)",
            ]
        );
    }

    /// Every binary's first variant is the binary as it comes, with no flags:
    /// what `--quick` runs. A binary the table does not know runs that way too.
    #[test]
    fn the_first_variant_has_no_flags() {
        for binary in [
            "blocking",
            "forking",
            "threaded",
            "epoll",
            "uring",
            "some-new-model",
        ] {
            let first = &variants(binary)[0];
            assert_eq!((first.name.as_str(), first.args.len()), (binary, 0));
        }
    }

    /// A server that serves N connections at a time can run only the
    /// scenario whose connections come and go; the cell says why for the
    /// others. select's FD_SETSIZE stops only the full hold.
    #[test]
    fn limits_say_which_scenarios_cannot_run() {
        let reason =
            |name: &str, scenario: &Scenario, quick: bool| scenario.cannot(&variant(name), quick);
        assert_eq!(reason("blocking", &scenario::CLOSE, false), None);
        assert_eq!(
            reason("blocking", &scenario::KEEPALIVE, false).as_deref(),
            Some("one conn. at a time")
        );
        assert_eq!(
            reason("threaded --pool 8", &scenario::ECHO, false).as_deref(),
            Some("8 conn. at a time")
        );
        assert_eq!(
            reason("forking --workers 2", &scenario::DELAY, false).as_deref(),
            Some("2 conn. at a time")
        );
        assert_eq!(reason("threaded", &scenario::HOLD, false), None);
        assert_eq!(reason("forking", &scenario::DELAY, false), None);
        assert_eq!(
            reason("select", &scenario::HOLD, false).as_deref(),
            Some("fds >= 1024 refused")
        );
        assert_eq!(reason("select", &scenario::HOLD, true), None); // 300 fit
        assert_eq!(reason("epoll --trigger edge", &scenario::HOLD, false), None);
        let nginx = nginx_row();
        assert_eq!(scenario::KEEPALIVE.cannot(&nginx, false), None);
        assert_eq!(scenario::HOLD.cannot(&nginx, false), None);
        assert_eq!(
            scenario::DELAY.cannot(&nginx, false).as_deref(),
            Some("static files only")
        );
        assert_eq!(
            scenario::ECHO.cannot(&nginx, false).as_deref(),
            Some("HTTP only")
        );
    }

    /// The stall needs two connections at once, a pool of two has them;
    /// a missing tool says so rather than failing.
    #[test]
    fn the_stall_runs_on_a_pool_of_two_but_not_on_one() {
        assert_eq!(
            scenario::STALL
                .cannot(&variant("blocking"), false)
                .as_deref(),
            Some("one conn. at a time")
        );
        assert_eq!(
            scenario::STALL.cannot(&variant("forking --workers 2"), false),
            None
        );
        assert_eq!(scenario::IDLE.cannot(&variant("blocking"), false), None);
        assert_eq!(
            scenario::STALL.cannot(&nginx_row(), false).as_deref(),
            Some("static files only")
        );
    }

    /// Holds ask what each model can give: a process or a thread per
    /// connection is held to fewer.
    #[test]
    fn hold_counts_follow_the_model() {
        let durations = |hold_connections| Durations {
            hold_connections,
            ..Durations::EVERYDAY
        };
        let count = |name: &str, n: usize| durations(n).hold_count(&variant(name));
        assert_eq!(count("epoll", 19_000), 19_000);
        assert_eq!(count("threaded", 19_000), 10_000);
        assert_eq!(count("forking", 19_000), 1_000);
        assert_eq!(count("uring", 300), 300);
        assert_eq!(count("forking", 300), 300);
        assert_eq!(durations(19_000).hold_count(&nginx_row()), 10_000);
    }

    /// Every heading says its unit and which way is better.
    #[test]
    fn headings_mark_the_better_direction() {
        assert_eq!(scenario::KEEPALIVE.heading(), "keep-alive c100 (req/s ↑)");
        assert_eq!(scenario::HOLD.heading(), "hold (B per conn. ↓)");
        for scenario in scenario::ALL {
            let heading = scenario.heading();
            assert!(
                heading.ends_with("↑)") || heading.ends_with("↓)"),
                "{heading}"
            );
        }
    }
}
