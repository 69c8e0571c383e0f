//! `bench cores`: the conformance suite against each model's *core* (the
//! model as first written, `examples/<binary>_core.rs` in its crate), to
//! show which cases the core fails: the reason for each part of the real
//! server's hardening. Writes `cores.json` and `cores.md` (one anchor per
//! chapter, included at the top of each model chapter's code).
//!
//! The suite runs with the real binary's declared limits (blocking serves
//! one connection at a time, forking gives each a process), so a core is
//! held to what its model promises, no more.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conformance::{Case, Target};
use serde::{Deserialize, Serialize};

/// The chapters' cores: (the real binary, the example that is its core).
pub const CORES: &[(&str, &str)] = &[
    ("blocking", "blocking_core"),
    ("forking", "forking_core"),
    ("threaded", "threaded_core"),
    ("nonblocking", "nonblocking_core"),
    ("select", "select_core"),
    ("poll", "poll_core"),
    ("epoll", "epoll_core"),
    ("epoll-mio", "epoll_mio_core"),
    ("signal_driven", "signal_driven_core"),
    ("coroutine", "coroutine_core"),
    ("async_await", "async_await_core"),
    ("uring", "uring_core"),
];

/// The cases `--quick` runs: every core must pass them (it serves the
/// protocol at all), so CI sees a core that stopped working.
pub const QUICK: &[&str] = &["get_numbers", "keepalive_http11", "route_delay"];

/// How long one case may take before it counts as failed (a core can hang
/// where the real server answers).
const CASE_LIMIT: Duration = Duration::from_secs(90);

/// Cases run at once, as the suite runs them.
const AT_ONCE: usize = 8;

/// One case against one core.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict {
    /// The case's name.
    pub case: String,
    /// What passing it shows (the case's one sentence).
    pub demonstrates: String,
    /// `None`: passed. Otherwise the first line of what went wrong.
    pub failure: Option<String>,
}

/// Every verdict, by binary (the chapter's name).
pub type Results = BTreeMap<String, Vec<Verdict>>;

/// The target for `core`, with the limits its real `binary` declares.
fn target(binary: &str, core: &str, dir: &Path) -> Target {
    let default = crate::compare::declared_default(binary);
    let path = dir.join(core);
    let mut target = Target::declared(core, &path.to_string_lossy(), &default);
    // The core takes no model flags.
    target.args.clear();
    target.name = core.to_string();
    target
}

/// Runs `cases` (all when empty) against every core in `dir`, 8 at a time.
pub fn run(dir: &Path, only: &[&str]) -> Results {
    let cases: Vec<Arc<Case>> = conformance::cases()
        .into_iter()
        .filter(|case| only.is_empty() || only.contains(&case.name.as_str()))
        .map(Arc::new)
        .collect();
    let mut jobs = Vec::new();
    for &(binary, core) in CORES {
        let target = Arc::new(target(binary, core, dir));
        for case in &cases {
            jobs.push((binary.to_string(), target.clone(), case.clone()));
        }
    }
    let total = jobs.len();
    let jobs = Arc::new(Mutex::new(jobs));
    let (done, verdicts) = mpsc::channel();
    for _ in 0..AT_ONCE {
        let (jobs, done) = (jobs.clone(), done.clone());
        std::thread::spawn(move || {
            loop {
                let Some((binary, target, case)) = jobs.lock().unwrap().pop() else {
                    return;
                };
                let failure = run_one(target, case.clone());
                let verdict = Verdict {
                    case: case.name.clone(),
                    demonstrates: case.demonstrates.to_string(),
                    failure,
                };
                eprintln!(
                    "{binary} core :: {} ... {}",
                    verdict.case,
                    verdict.failure.as_deref().map_or("ok", |_| "FAILED")
                );
                if done.send((binary, verdict)).is_err() {
                    return;
                }
            }
        });
    }
    drop(done);
    let mut results = Results::new();
    for (binary, verdict) in verdicts.iter().take(total) {
        results.entry(binary).or_default().push(verdict);
    }
    for verdicts in results.values_mut() {
        verdicts.sort_by(|a, b| a.case.cmp(&b.case));
    }
    results
}

/// One case, on a thread of its own, for at most [`CASE_LIMIT`]: the first
/// line of its failure, or `None`. A case that hangs is left behind (its
/// server ends with this process: see [`end_leftovers`]).
fn run_one(target: Arc<Target>, case: Arc<Case>) -> Option<String> {
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    std::thread::spawn(move || {
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (case.run)(&target)));
        let _ = tx.send(match outcome {
            Ok(outcome) => outcome,
            Err(_) => Err("the case panicked".to_string()),
        });
    });
    match rx.recv_timeout(CASE_LIMIT) {
        Ok(Ok(())) => None,
        Ok(Err(failure)) => Some(first_line(&failure)),
        Err(_) => Some(format!("no verdict within {:?}", start.elapsed())),
    }
}

/// The first line of a failure, at most 160 characters.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(160) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

/// Kills every process this one started that is still there (the servers
/// of cases that hung).
pub fn end_leftovers() {
    for pid in crate::procfs::children(std::process::id()) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// The failures no [`fix`] explains, as `binary :: case`.
pub fn unexplained(results: &Results) -> Vec<String> {
    results
        .iter()
        .flat_map(|(binary, verdicts)| {
            verdicts
                .iter()
                .filter(|v| v.failure.is_some() && fix(binary, &v.case).is_none())
                .map(move |v| format!("{binary} :: {}", v.case))
        })
        .collect()
}

/// `cores.md`: per chapter, an anchor with the count and one table of the
/// cases its core fails, grouped by reason: what the real server adds, and
/// the cases that fail for want of it. (Each failure's own words stay in
/// `cores.json`.)
pub fn markdown(results: &Results) -> String {
    let mut out =
        String::from("<!-- Written by `bench cores` from cores.json: do not edit by hand. -->\n");
    for (binary, verdicts) in results {
        let failed: Vec<&Verdict> = verdicts.iter().filter(|v| v.failure.is_some()).collect();
        // The reasons in the order of their first failure, each with its cases.
        let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
        for verdict in &failed {
            let reason = fix(binary, &verdict.case).unwrap_or("(not explained yet)");
            match reasons.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, cases)) => cases.push(&verdict.case),
                None => reasons.push((reason, vec![&verdict.case])),
            }
        }
        let _ = writeln!(out, "\n<!-- ANCHOR: {binary} -->");
        let _ = writeln!(
            out,
            "The core passes {} of the suite's {} cases. It fails {}, for want of {} the real server adds:\n",
            verdicts.len() - failed.len(),
            verdicts.len(),
            failed.len(),
            match reasons.len() {
                1 => "one thing".to_string(),
                n => format!("{n} things"),
            }
        );
        if !reasons.is_empty() {
            let _ = writeln!(
                out,
                "| what the real server adds | the cases the core fails without it |"
            );
            let _ = writeln!(out, "| --- | --- |");
            for (reason, cases) in reasons {
                let cases: Vec<String> = cases.iter().map(|c| format!("`{c}`")).collect();
                let _ = writeln!(out, "| {reason} | {} |", cases.join(", "));
            }
        }
        let _ = writeln!(out, "<!-- ANCHOR_END: {binary} -->");
    }
    out
}

/// What the real server of `binary` adds that makes `case` pass, in the
/// book's words, or `None` where no one has said yet (then `bench cores`
/// refuses to write the table: every failure is explained or none is).
pub fn fix(binary: &str, case: &str) -> Option<&'static str> {
    let threads = matches!(binary, "threaded" | "forking" | "coroutine");
    Some(match case {
        "trace_lines" => {
            "`--trace`: a line for each kernel interaction (`plumbing::trace`), from \
             `plumbing::conn`, `plumbing::acceptor` and the model's own wait"
        }
        "max_conns" => {
            "admission: a place under `--max-conns` for each client \
             (`plumbing::admission::admit`), a `503` past it (`refuse`)"
        }
        "root_site"
        | "traversal"
        | "missing_root_exit_1"
        | "file_changes_while_sent"
        | "out_of_fds_root"
            if binary == "uring" =>
        {
            "files from `--root`: opened and read through the ring when the protocol asks \
             (`server/file.rs`); a core serves the compiled-in site only, and refuses `--root`"
        }
        "root_site"
        | "traversal"
        | "missing_root_exit_1"
        | "file_changes_while_sent"
        | "out_of_fds_root" => {
            "files from `--root`: opened with `open` and read with `pread` when the protocol \
             asks (`plumbing::files`); a core serves the compiled-in site only, and refuses \
             `--root`"
        }
        "out_of_fds" if threads => {
            "the blocking acceptor's reserve fd (`plumbing::accept`): on `EMFILE` it is \
             closed, the waiting client accepted into it and refused with a `503`"
        }
        "out_of_fds" if binary == "uring" => {
            "after a failed accept, no new one for `ACCEPT_PAUSE` or until a close \
             (`accept_after`), and the reserve fd refuses the waiting clients"
        }
        "out_of_fds" => {
            "`on_accept` over `plumbing::acceptor`: on `EMFILE` the reserve fd refuses the \
             waiting clients with a `503`, or accepting pauses; a failed accept never \
             ends the loop"
        }
        "shutdown_under_load" | "sigint_exit_0" | "sigterm_exit_0" | "sigterm_in_flight"
            if threads =>
        {
            "shutdown: the accept loop ends when `shutdown::requested()`, and the \
             server waits for the answers in flight before it exits 0"
        }
        "shutdown_under_load" | "sigint_exit_0" | "sigterm_exit_0" | "sigterm_in_flight" => {
            "step 1, shutdown (`stop`): stop accepting, close the idle connections, finish \
             the answers in flight, return `Ok` (exit 0); the core's accept fails on the \
             shut listener and it exits 1 mid-answer"
        }
        "echo_backpressure" => {
            "read interest only while `Conn::wants_read` (the protocol has room): a client \
             that does not read its answers is not read from, so it costs at most 1 MiB"
        }
        "reset_mid_response" | "resets_everywhere" => {
            "a failed connection ends only itself: `serve_client` traces the error and \
             the accept loop goes on"
        }
        "eleven_hundred_connections" => {
            "admission with `FD_LIMIT`: a client whose fd select cannot watch \
             (FD_SETSIZE, 1024) is refused with a `503`"
        }
        "echo_8mib_random_chunks"
        | "echo_half_close"
        | "route_bytes"
        | "slow_reader"
        | "idle_timeout"
        | "keepalive_http10"
        | "pipelined_100"
        | "slowloris_408"
        | "thousand_idle"
            if binary == "signal_driven" =>
        {
            "`drain` and `again`: a signal is an edge, so each read goes on until \
             `EAGAIN`, and a connection left with work is served again without a signal"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(case: &str, failure: Option<&str>) -> Verdict {
        Verdict {
            case: case.to_string(),
            demonstrates: "it works".to_string(),
            failure: failure.map(str::to_string),
        }
    }

    /// A chapter's table counts the cases, lists only the failed ones, under
    /// what the real server adds; a failure nobody explained is named.
    #[test]
    fn the_table_lists_the_failures_with_their_fix() {
        let mut results = Results::new();
        results.insert(
            "epoll".to_string(),
            vec![
                verdict("get_numbers", None),
                verdict("max_conns", Some("client 9 of 8 allowed was Served")),
            ],
        );
        let md = markdown(&results);
        assert!(md.contains("<!-- ANCHOR: epoll -->"), "{md}");
        assert!(
            md.contains("passes 1 of the suite's 2 cases. It fails 1, for want of one thing the real server adds"),
            "{md}"
        );
        assert!(
            md.contains("| admission: a place under `--max-conns` for each client"),
            "{md}"
        );
        assert!(md.contains("| `max_conns` |"), "{md}");
        assert!(!md.contains("`get_numbers`"), "{md}");
        // Two cases that fail for one reason share its row.
        let epoll = results.get_mut("epoll").unwrap();
        epoll.push(verdict("root_site", Some("no listening line")));
        epoll.push(verdict("traversal", Some("no listening line")));
        let md = markdown(&results);
        assert!(md.contains("It fails 3, for want of 2 things"), "{md}");
        assert!(md.contains("| `root_site`, `traversal` |"), "{md}");
        assert!(unexplained(&results).is_empty());
        results
            .get_mut("epoll")
            .unwrap()
            .push(verdict("no_such_case", Some("boom")));
        assert_eq!(unexplained(&results), vec!["epoll :: no_such_case"]);
    }
}
