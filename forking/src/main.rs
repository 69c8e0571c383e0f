//! `forking`: parse the flags, hand over to the library.

use std::process::ExitCode;

/// The forking server's command line: the common flags and `--workers`.
#[derive(clap::Parser)]
#[command(
    name = "forking",
    about = "Blocking I/O, a process per connection (fork(2) after accept), or N preforked worker processes.\n\
             Each child blocks in read(2)/write(2) on its one connection; the parent blocks in accept(2)."
)]
struct Args {
    #[command(flatten)]
    common: plumbing::CommonArgs,

    /// Start N worker processes up front, each accepting and serving one connection at a time, instead of a process per connection.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    workers: Option<u16>,
}

fn main() -> ExitCode {
    let args: Args = plumbing::parse();
    let workers = args.workers;
    plumbing::run("forking", forking::PORT, &args.common, |server| {
        forking::serve(server, workers)
    })
}
