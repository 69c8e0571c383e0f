//! The whole conformance suite against the io_uring server, with multishot
//! accept and recv (the default) and with one accept per client and one
//! recv per read (the fallback for older kernels).
//!
//! Where io_uring is not available (seccomp, `kernel.io_uring_disabled`, an
//! old kernel) the server cannot start, so the suite cannot run: every case
//! is reported as *ignored*, with the reason (`... ignored (io_uring is not
//! available here: ...)`), never as passed; and as failed where
//! `IOMODELS_REQUIRE=io_uring` says the machine has io_uring (`.ci/run` sets
//! it). The last trial checks both, by running this harness again with
//! io_uring forbidden. That the server itself refuses cleanly there is
//! `tests/unavailable.rs`.

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Output};

use conformance::client::check;
use conformance::{Need, Outcome, REQUIRE};

mod common;

/// The case the harness runs again without io_uring: any one would do.
const ONE_CASE: &str = "uring :: help";

fn main() -> ExitCode {
    let io_uring = Need {
        name: "io_uring",
        found: uring::probe(false).map(drop),
    };
    // The variants `uring::BINARIES` declares, each refusing bad `--shots`.
    let targets = conformance::declared(uring::BINARIES, |_| env!("CARGO_BIN_EXE_uring"))
        .into_iter()
        .map(|target| {
            target
                .refuses(&["--shots", "bogus"])
                .refuses(&["--shots", ""])
        })
        .collect();
    let mut trials = conformance::suite(Some(&io_uring), targets);
    trials.push(conformance::trial(
        "uring: without io_uring the suite is ignored, or failed if required".into(),
        None,
        without_io_uring,
    ));
    conformance::run(trials)
}

/// Runs this harness again, `ONE_CASE` only, with io_uring forbidden: the
/// case must be reported as ignored with the reason, the run green; and
/// with `IOMODELS_REQUIRE=io_uring`, failed with the reason, the run red.
fn without_io_uring() -> Outcome {
    let skipped = again(None)?;
    let stdout = String::from_utf8_lossy(&skipped.stdout);
    let reason =
        "ignored (io_uring is not available here: io_uring_setup failed: Operation not permitted";
    check(skipped.status.success(), || {
        format!("not green without io_uring: {stdout}")
    })?;
    check(
        stdout
            .lines()
            .any(|line| line.starts_with(&format!("test {ONE_CASE} ")) && line.contains(reason)),
        || format!("no `{ONE_CASE} ... {reason}` line in {stdout}"),
    )?;
    check(stdout.contains("0 passed; 0 failed; 1 ignored"), || {
        format!("not reported as one ignored: {stdout}")
    })?;

    let required = again(Some("io_uring"))?;
    let stdout = String::from_utf8_lossy(&required.stdout);
    check(!required.status.success(), || {
        format!("green without io_uring although {REQUIRE}=io_uring: {stdout}")
    })?;
    check(
        stdout.contains("0 passed; 1 failed; 0 ignored")
            && stdout.contains("io_uring is not available here"),
        || format!("not one failure naming io_uring: {stdout}"),
    )
}

/// This test binary again, `ONE_CASE` only, io_uring forbidden, with
/// `IOMODELS_REQUIRE` set to `require` (or unset).
fn again(require: Option<&str>) -> Result<Output, String> {
    // Checked here, in the parent: the child may not allocate the error.
    common::seccomp_arch().map_err(|e| e.to_string())?;
    let harness = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut command = Command::new(harness);
    command
        .args(["--exact", ONE_CASE, "--test-threads", "1"])
        .env_remove(REQUIRE);
    if let Some(require) = require {
        command.env(REQUIRE, require);
    }
    // SAFETY: the closure runs in the forked child before exec and only
    // makes two prctl calls, which are async-signal-safe; it allocates
    // nothing (the architecture was checked above) and takes no lock.
    unsafe { command.pre_exec(common::forbid_io_uring) };
    command
        .output()
        .map_err(|e| format!("running the harness again: {e}"))
}
