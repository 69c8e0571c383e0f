//! `bench cores`: the conformance suite against each model's *core* (the
//! model as first written, `examples/<binary>_core.rs` in its crate), to
//! show which cases the core fails: the reason for each part of the real
//! server's hardening. Writes `cores.json` and `cores.md` (one anchor per
//! chapter, included at the top of each model chapter's code).
//!
//! The suite runs with the real binary's declared limits (blocking serves
//! one connection at a time, forking gives each a process), so a core is
//! held to what its model promises, no more. Which core is a model's is
//! the model crate's declaration ([`crate::models::cores`]); what the real
//! server adds to pass each case is in `fix`, in the book's words.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conformance::{Case, Target};
use loadgen::Failure;
use serde::{Deserialize, Serialize};

use crate::cli::CoresArgs;

mod fix;
pub use fix::fix;

/// `bench cores`: builds the cores, runs the suite against each, and
/// writes what each fails (or, `--quick`, checks that each serves at all).
pub fn command(args: CoresArgs) -> Result<(), Failure> {
    let workspace = crate::compare::workspace().map_err(|e| format!("cargo metadata: {e}"))?;
    let out = args
        .out
        .unwrap_or_else(|| workspace.out(args.book, "cores"));
    if args.redraw {
        let path = out.join("cores.json");
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let results: Results =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(write_cores(&results, &out)?);
    }
    crate::compare::build("--examples").map_err(|e| e.to_string())?;
    let dir = workspace.bin_dir.join("examples");
    let only: &[&str] = if args.quick { QUICK } else { &[] };
    let results = run(&dir, only);
    end_leftovers();
    if args.quick {
        let failed: Vec<String> = results
            .iter()
            .flat_map(|(binary, verdicts)| {
                verdicts.iter().filter_map(move |v| {
                    Some(format!(
                        "{binary} core :: {}: {}",
                        v.case,
                        v.failure.as_ref()?
                    ))
                })
            })
            .collect();
        if !failed.is_empty() {
            return Err(format!("a core does not serve:\n{}", failed.join("\n")).into());
        }
        println!("every core passes {}", QUICK.join(", "));
        return Ok(());
    }
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    // The table first: a run it refuses leaves cores.json as it was.
    write_cores(&results, &out)?;
    std::fs::write(out.join("cores.json"), json + "\n").map_err(|e| e.to_string())?;
    Ok(())
}

/// Writes cores.md, once every failure has its word in `cores::fix`.
fn write_cores(results: &Results, out: &Path) -> Result<(), String> {
    let unexplained = unexplained(results);
    if !unexplained.is_empty() {
        return Err(format!(
            "failures with no word in bench::cores::fix for what the real server adds:\n{}",
            unexplained.join("\n")
        ));
    }
    let path = out.join("cores.md");
    std::fs::write(&path, markdown(results)).map_err(|e| e.to_string())?;
    println!("wrote {}", path.display());
    Ok(())
}

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
    for (binary, core) in crate::models::cores() {
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
    for pid in loadgen::procfs::children(std::process::id()) {
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
