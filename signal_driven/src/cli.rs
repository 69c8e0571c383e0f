//! The command line of `signal_driven`, here rather than in the binary
//! so that the book's test (`bench/tests/book_commands.rs`) checks every
//! command the book gives it with its own parser.

/// The signal-driven server's command line: the common flags and `--sigpending`.
#[derive(clap::Parser)]
#[command(
    name = "signal_driven",
    version,
    about = "Signal-driven I/O: every socket queues a real-time signal carrying its fd when it becomes ready (O_ASYNC, F_SETSIG).\n\
             Blocks only in sigtimedwait, until a signal is queued or the earliest deadline."
)]
pub struct Args {
    /// The flags every server takes (`plumbing::CommonArgs`).
    #[command(flatten)]
    pub common: plumbing::CommonArgs,

    /// Lower RLIMIT_SIGPENDING (the real-time signal queue) to N, to watch it overflow into plain SIGIO.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub sigpending: Option<u64>,
}
