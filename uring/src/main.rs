//! `uring`: parse the flags, probe io_uring, hand over to the library.

use std::process::ExitCode;

use uring::Shots;

/// The io_uring server's command line: the common flags and `--shots`.
#[derive(clap::Parser)]
#[command(
    name = "uring",
    about = "Asynchronous I/O with io_uring: accept, recv and send are submitted to the kernel, which completes them.\n\
             Blocks only in io_uring_enter, until at least one operation has completed."
)]
struct Args {
    #[command(flatten)]
    common: plumbing::CommonArgs,

    /// Multishot accept and recv (one operation, many completions; falls back to single where the kernel refuses), or one operation per completion.
    #[arg(long, value_enum, default_value_t = Shots::Multi)]
    shots: Shots,
}

fn main() -> ExitCode {
    let args: Args = plumbing::parse();
    let ring = match uring::probe() {
        Ok(ring) => ring,
        Err(why) => {
            eprintln!("uring: io_uring is not available here: {why}");
            return ExitCode::from(1);
        }
    };
    let shots = args.shots;
    plumbing::run("uring", uring::PORT, &args.common, |server| {
        uring::serve(ring, server, shots)
    })
}
