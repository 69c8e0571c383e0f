//! `uring`: parse the flags, probe io_uring, hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: uring::Args = plumbing::parse();
    let ring = match uring::probe(args.sqpoll) {
        Ok(ring) => ring,
        Err(why) => {
            eprintln!("uring: io_uring is not available here: {why}");
            return ExitCode::from(1);
        }
    };
    let (shots, wait) = (args.shots, args.wait);
    plumbing::run("uring", uring::PORT, &args.common, |server| {
        uring::serve(ring, server, shots, wait)
    })
}
