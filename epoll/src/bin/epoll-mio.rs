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

    /// Worker threads, each with its own mio Poll and its own SO_REUSEPORT listener.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    workers: u16,
}

fn main() -> ExitCode {
    let args: Args = plumbing::parse();
    let workers = usize::from(args.workers);
    let serve = |server| epoll::serve_mio(server, workers);
    match workers {
        1 => plumbing::run("epoll-mio", epoll::EPOLL_MIO_PORT, &args.common, serve),
        _ => plumbing::run_reuse_port("epoll-mio", epoll::EPOLL_MIO_PORT, &args.common, serve),
    }
}
