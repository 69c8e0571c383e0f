//! `epoll-mio`: parse the flags, hand over to the library.

use std::process::ExitCode;

/// The mio server's command line: the common flags and `--workers`.
#[derive(clap::Parser)]
#[command(
    name = "epoll-mio",
    about = "I/O multiplexing with epoll(7) through mio: edge-triggered, tokens, a waker, N worker threads.\n\
             Blocks only in mio's Poll::poll (epoll_wait), until one of its fds is ready or the earliest deadline."
)]
struct Args {
    #[command(flatten)]
    common: plumbing::CommonArgs,

    #[command(flatten)]
    workers: epoll::Workers,
}

fn main() -> ExitCode {
    let args: Args = plumbing::parse();
    epoll::run(
        "epoll-mio",
        epoll::EPOLL_MIO_PORT,
        &args.common,
        args.workers,
        epoll::serve_mio,
    )
}
