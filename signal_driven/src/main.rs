//! `signal_driven`: block the model's signals, parse the flags, hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    // First, before any thread exists, so that every thread inherits it.
    if let Err(err) = signal_driven::block_signals() {
        eprintln!("signal_driven: cannot block its signals: {err}");
        return ExitCode::from(1);
    }
    let args: signal_driven::Args = plumbing::parse();
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
