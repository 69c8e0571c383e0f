//! `signal_driven`: block the model's signals, parse the flags, hand over to the library.

use std::process::ExitCode;

/// The signal-driven server's command line: the common flags and `--sigpending`.
#[derive(clap::Parser)]
#[command(
    name = "signal_driven",
    about = "Signal-driven I/O: every socket queues a real-time signal carrying its fd when it becomes ready (O_ASYNC, F_SETSIG).\n\
             Blocks only in sigtimedwait, until a signal is queued or the earliest deadline."
)]
struct Args {
    #[command(flatten)]
    common: plumbing::CommonArgs,

    /// Lower RLIMIT_SIGPENDING (the real-time signal queue) to N, to watch it overflow into plain SIGIO.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    sigpending: Option<u64>,
}

fn main() -> ExitCode {
    // First, before any thread exists, so that every thread inherits it.
    if let Err(err) = signal_driven::block_signals() {
        eprintln!("signal_driven: cannot block its signals: {err}");
        return ExitCode::from(1);
    }
    let args: Args = plumbing::parse();
    if let Some(max) = args.sigpending
        && let Err(err) = signal_driven::limit_queue(max)
    {
        eprintln!("signal_driven: --sigpending {max}: {err}");
        return ExitCode::from(1);
    }
    plumbing::run(
        "signal_driven",
        signal_driven::PORT,
        &args.common,
        signal_driven::serve,
    )
}
