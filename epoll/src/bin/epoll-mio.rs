//! `epoll-mio`: parse the flags, hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: epoll::MioArgs = plumbing::parse();
    epoll::run(
        "epoll-mio",
        epoll::EPOLL_MIO_PORT,
        &args.common,
        args.workers,
        epoll::serve_mio,
    )
}
