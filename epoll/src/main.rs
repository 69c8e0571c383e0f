//! `epoll`: parse the flags, hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: epoll::Args = plumbing::parse();
    let trigger = args.trigger;
    epoll::run(
        "epoll",
        epoll::EPOLL_PORT,
        &args.common,
        args.workers,
        |server, workers| epoll::serve(server, trigger, workers),
    )
}
