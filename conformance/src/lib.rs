//! The conformance suite (docs/src/contract.md §6): one library of cases that every model's
//! `tests/conformance.rs` runs against its own binary, started on port 0.
//!
//! A model's test file is a few lines:
//!
//! ```ignore
//! fn main() -> std::process::ExitCode {
//!     conformance::main(vec![
//!         conformance::Target::new("blocking", env!("CARGO_BIN_EXE_blocking"))
//!             .concurrency(conformance::Concurrency::AtMost(1)),
//!     ])
//! }
//! ```
//!
//! (with `harness = false` for that test in its `Cargo.toml`). Every case
//! runs against every target, each case against a server process of its own,
//! so cases run in parallel and one stuck server cannot hold up another.
//! Each case is bounded in time (socket timeouts of a few seconds, no
//! unbounded loop) and carries one sentence saying what it demonstrates,
//! printed when it fails.
//!
//! # Limits, declared once
//!
//! A model states its limits in its [`Target`]; cases that depend on a limit
//! check the declared behaviour instead of skipping. For example with
//! [`Concurrency::AtMost`]`(1)` (the blocking server) the "keep-alive clients
//! are served at once" case becomes "a second client waits until the first
//! one leaves", and the overlapping-delays case expects the delays to add
//! up; with `AtMost(8)` (a pool of 8 threads) the ninth keep-alive client is
//! the one that waits. A model with an
//! fd-number limit ([`Target::fd_limit`], `select`) is expected to refuse the
//! clients past it cleanly, where every other model serves them all. No case
//! is ever skipped silently.
//!
//! # Needs of the machine
//!
//! A model can need something a machine may lack (`uring` needs io_uring,
//! which a seccomp filter, `kernel.io_uring_disabled` or an old kernel takes
//! away). It passes a [`Need`] to [`suite`], or to [`trial`] for a test of
//! its own; where the need is not met, each of its tests is reported as
//! ignored with the reason (`... ignored (io_uring is not available here:
//! ...)`), never as passed. A machine that must have it says so in
//! [`REQUIRE`] (`.ci/run` sets `IOMODELS_REQUIRE=io_uring`), and there
//! the same tests fail instead.
//!
//! # Layout
//! - [`server`]: starting a server binary, reading its `listening on` line,
//!   signalling it, and checking its stderr for panics.
//! - [`client`]: a raw-bytes HTTP client with timeouts, independent of the
//!   `protocol` crate (the suite must not share the parser it tests).
//! - `cases`: the cases, by theme.

mod cases;
pub mod client;
pub mod server;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Completion, Trial};
use model::{Binary, Variant};
use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// How many connections a model serves at once: its one declared limit that
/// changes what the suite expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concurrency {
    /// Serves at most this many connections at once: 1 for the blocking
    /// server, N for a pool of N threads or N preforked processes. The others
    /// wait (in the listen backlog, or handed over but not yet taken) until
    /// one of those being served leaves.
    AtMost(usize),
    /// Serves every connection at once, up to `--max-conns`.
    Concurrent,
}

/// One server binary with one set of model flags, and its declared limits.
#[derive(Debug, Clone)]
pub struct Target {
    /// Shown in test names: the binary and its flags.
    pub name: String,
    /// The server binary (`env!("CARGO_BIN_EXE_<name>")`).
    pub binary: PathBuf,
    /// Model flags for this variant (`--trigger edge`, `--workers 2`, ...).
    pub args: Vec<String>,
    /// How many connections it serves at once.
    pub concurrency: Concurrency,
    /// One past the highest fd the model's wait call can watch, if it has
    /// such a limit (`select`: FD_SETSIZE, 1024). Clients past it are refused.
    pub fd_limit: Option<usize>,
    /// The model never sleeps (the busy-poll loop): a case that checks a
    /// server does not spin expects 100% CPU from it anyway, and checks the
    /// rest of its behaviour.
    pub spins: bool,
    /// Each connection is served by a process of its own (`forking`), with
    /// an fd table of its own: a low fd limit is a limit per process, so the
    /// out-of-fds case expects every client to be served.
    pub process_per_connection: bool,
    /// Bad values of the model's own flags (`--shots bogus`): the
    /// `bad_flag` case expects each refused like the common flags' (exit
    /// 2, a first line naming the flag, the usage).
    pub bad_model_flags: Vec<Vec<String>>,
    /// The version `--version` must print after the binary's name: its
    /// crate's, as the model declares it ([`Binary::version`], taken by
    /// [`declared`]). A target made otherwise (the bench's cores) has none,
    /// and the `version` case then checks only that a version is printed.
    pub version: Option<String>,
}

impl Target {
    /// A target with no model flags that serves connections concurrently.
    pub fn new(name: &str, binary: &str) -> Target {
        Target {
            name: name.to_string(),
            binary: PathBuf::from(binary),
            args: Vec::new(),
            concurrency: Concurrency::Concurrent,
            fd_limit: None,
            spins: false,
            process_per_connection: false,
            bad_model_flags: Vec::new(),
            version: None,
        }
    }

    /// The same binary with model flags (one variant of the model).
    pub fn args(mut self, args: &[&str]) -> Target {
        self.args = args.iter().map(|a| a.to_string()).collect();
        self.name = format!("{} {}", self.name, args.join(" "));
        self
    }

    /// Declares how many connections the model serves at once.
    pub fn concurrency(mut self, concurrency: Concurrency) -> Target {
        self.concurrency = concurrency;
        self
    }

    /// Declares that the model busy-polls: it uses a whole CPU even idle.
    pub fn spins(mut self) -> Target {
        self.spins = true;
        self
    }

    /// Declares that every connection gets a process (and fd table) of its own.
    pub fn process_per_connection(mut self) -> Target {
        self.process_per_connection = true;
        self
    }

    /// Declares a bad use of a model flag (the flag first, then its value)
    /// that the server must refuse as it refuses a bad common flag.
    pub fn refuses(mut self, args: &[&str]) -> Target {
        self.bad_model_flags
            .push(args.iter().map(|a| a.to_string()).collect());
        self
    }

    /// Declares an fd-number limit: a client whose fd would be at or above
    /// `limit` is refused (503 or a close) and everyone else carries on.
    pub fn fd_limit(mut self, limit: usize) -> Target {
        self.fd_limit = Some(limit);
        self
    }

    /// The target for one variant a model crate declares
    /// (`model`), with its limits.
    pub fn declared(name: &str, binary: &str, variant: &Variant) -> Target {
        let limits = variant.limits;
        let mut target = Target::new(name, binary);
        if !variant.args.is_empty() {
            target = target.args(variant.args);
        }
        if let Some(n) = limits.at_a_time {
            target = target.concurrency(Concurrency::AtMost(n));
        }
        if let Some(limit) = limits.fd_limit {
            target = target.fd_limit(limit);
        }
        target.spins = limits.spins;
        target.process_per_connection = limits.process_per_connection;
        target
    }
}

/// Every variant of every binary in `binaries` (a model crate's
/// `BINARIES`), as targets with the binary's version; `path` gives a
/// binary's file by name (`env!("CARGO_BIN_EXE_<name>")`).
pub fn declared(binaries: &[Binary], path: impl Fn(&str) -> &'static str) -> Vec<Target> {
    binaries
        .iter()
        .flat_map(|binary| {
            let file = path(binary.name);
            binary.variants.iter().map(move |variant| Target {
                version: Some(binary.version.to_string()),
                ..Target::declared(binary.name, file, variant)
            })
        })
        .collect()
}

/// What a case returns: `Err` with a message saying what went wrong.
pub type Outcome = Result<(), String>;

/// One conformance case.
pub struct Case {
    /// Short name, shown in `cargo test` output.
    pub name: String,
    /// One sentence: what passing this case shows about the server.
    pub demonstrates: &'static str,
    /// The check itself.
    pub run: Box<dyn Fn(&Target) -> Outcome + Send + Sync>,
}

impl Case {
    /// A case from a name, its one-sentence purpose, and a check.
    pub fn new(
        name: impl Into<String>,
        demonstrates: &'static str,
        run: impl Fn(&Target) -> Outcome + Send + Sync + 'static,
    ) -> Case {
        Case {
            name: name.into(),
            demonstrates,
            run: Box::new(run),
        }
    }
}

/// Every case of the suite.
pub fn cases() -> Vec<Case> {
    cases::all()
}

/// Runs every case against every target as a libtest-compatible test binary
/// (filters, `--list`, `--test-threads` work as in `cargo test`). Cases mostly
/// wait on sockets and timers, so by default 8 run at once.
pub fn main(targets: Vec<Target>) -> ExitCode {
    run(suite(None, targets))
}

/// Every case against every target, as trials for [`run`]: for a model that
/// adds tests of its own, or that needs something of the machine that a
/// machine can lack (`uring`: io_uring). Where `need` is not met, every
/// case is reported as ignored, with the reason (see [`trial`]).
pub fn suite(need: Option<&Need>, targets: Vec<Target>) -> Vec<Trial> {
    let cases: Vec<Arc<Case>> = cases().into_iter().map(Arc::new).collect();
    let mut trials = Vec::new();
    for target in targets {
        let target = Arc::new(target);
        for case in &cases {
            let (case, target) = (case.clone(), target.clone());
            let name = format!("{} :: {}", target.name, case.name);
            trials.push(trial(name, need, move || {
                (case.run)(&target).map_err(|failure| {
                    format!("{failure}\n(this case demonstrates: {})", case.demonstrates)
                })
            }));
        }
    }
    trials
}

/// Runs `trials` as a libtest-compatible test binary, 8 at once by default:
/// the suite's cases, or a model's own tests built with [`trial`].
pub fn run(trials: Vec<Trial>) -> ExitCode {
    // Some cases hold over a thousand connections: lift the soft fd limit
    // (often 1024) to the hard one, as the servers do for themselves.
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard {
            let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
        }
    }
    let mut arguments = libtest_mimic::Arguments::from_args();
    arguments.test_threads.get_or_insert(8);
    libtest_mimic::run(&arguments, trials).exit_code()
}

/// The environment variable that names, comma-separated, the [`Need`]s this
/// machine must meet (`IOMODELS_REQUIRE=io_uring`). `.ci/run` sets it: the
/// project's machines have io_uring, so a uring test skipped there is a
/// failure, not an ignored test.
pub const REQUIRE: &str = "IOMODELS_REQUIRE";

/// Something a model needs of the machine that a machine can lack: io_uring
/// can be missing (an old kernel), switched off (`kernel.io_uring_disabled`)
/// or forbidden (a container's seccomp filter). A test that cannot run for
/// want of it is reported as *ignored*, with the reason, never as passed.
#[derive(Debug, Clone)]
pub struct Need {
    /// Its name, as [`REQUIRE`] lists it: `io_uring`.
    pub name: &'static str,
    /// `Err(why)` where this machine lacks it.
    pub found: Result<(), String>,
}

/// One test named `name`. Where `need` is not met it does not run: it is
/// reported as ignored with the reason (`... ignored (io_uring is not
/// available here: ...)`), or failed with it if [`REQUIRE`] names the need.
pub fn trial(
    name: String,
    need: Option<&Need>,
    test: impl FnOnce() -> Outcome + Send + 'static,
) -> Trial {
    match verdict(need, std::env::var(REQUIRE).ok().as_deref()) {
        Verdict::Run => Trial::test(name, move || test().map_err(Into::into)),
        Verdict::Ignore(why) => {
            Trial::ignorable_test(name, move || Ok(Completion::ignored_with(why)))
        }
        Verdict::Fail(why) => Trial::test(name, move || Err(why.into())),
    }
}

/// What becomes of a test, given its need and the value of [`REQUIRE`].
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// The need is met (or there is none): the test runs.
    Run,
    /// The need is not met: the test is reported as ignored, with this reason.
    Ignore(String),
    /// The need is not met, and this machine must meet it: a failure.
    Fail(String),
}

fn verdict(need: Option<&Need>, require: Option<&str>) -> Verdict {
    let Some(Need {
        name,
        found: Err(why),
    }) = need
    else {
        return Verdict::Run;
    };
    let missing = format!("{name} is not available here: {why}");
    let required = require.is_some_and(|names| names.split(',').any(|n| n.trim() == *name));
    match required {
        true => Verdict::Fail(format!(
            "not run: {missing}; {REQUIRE} says this machine must have it"
        )),
        false => Verdict::Ignore(missing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io_uring(found: Result<(), &str>) -> Need {
        Need {
            name: "io_uring",
            found: found.map_err(str::to_string),
        }
    }

    #[test]
    fn a_test_whose_need_is_met_runs() {
        assert_eq!(verdict(None, None), Verdict::Run);
        assert_eq!(verdict(Some(&io_uring(Ok(()))), None), Verdict::Run);
        assert_eq!(
            verdict(Some(&io_uring(Ok(()))), Some("io_uring")),
            Verdict::Run
        );
    }

    #[test]
    fn a_test_whose_need_is_missing_is_ignored_with_the_reason() {
        let missing = io_uring(Err("io_uring_setup failed: EPERM"));
        let why = "io_uring is not available here: io_uring_setup failed: EPERM";
        assert_eq!(verdict(Some(&missing), None), Verdict::Ignore(why.into()));
        assert_eq!(
            verdict(Some(&missing), Some("io_uringx,other")),
            Verdict::Ignore(why.into())
        );
    }

    #[test]
    fn a_missing_need_the_machine_must_have_fails() {
        let missing = io_uring(Err("io_uring_setup failed: EPERM"));
        for require in ["io_uring", "other, io_uring"] {
            let Verdict::Fail(why) = verdict(Some(&missing), Some(require)) else {
                panic!("{require:?}: not a failure");
            };
            assert!(
                why.contains("io_uring_setup failed: EPERM") && why.contains(REQUIRE),
                "{why}"
            );
        }
    }
}
