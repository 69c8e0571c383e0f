//! `epoll`: parse the flags, hand over to the library.

use std::process::ExitCode;

use epoll::Trigger;

/// The epoll server's command line: the common flags, `--trigger` and `--workers`.
#[derive(clap::Parser)]
#[command(
    name = "epoll",
    about = "I/O multiplexing with epoll(7): an interest list kept in the kernel, level- or edge-triggered, N worker threads.\n\
             Blocks only in epoll_wait, until one of its fds is ready or the earliest deadline."
)]
struct Args {
    #[command(flatten)]
    common: plumbing::CommonArgs,

    /// When epoll reports a ready fd: as long as it is ready (level), or once when it becomes ready (edge, EPOLLET).
    #[arg(long, value_enum, default_value_t = Trigger::Level)]
    trigger: Trigger,

    #[command(flatten)]
    workers: epoll::Workers,
}

fn main() -> ExitCode {
    let args: Args = plumbing::parse();
    let trigger = args.trigger;
    epoll::run(
        "epoll",
        epoll::EPOLL_PORT,
        &args.common,
        args.workers,
        |server, workers| epoll::serve(server, trigger, workers),
    )
}
