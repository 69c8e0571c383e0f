//! `bench`: parse the command line and hand it to the mode: the load
//! generator's (`loadgen::modes`) or the lab's (`compare`, `cores`,
//! `timeline`). Each mode checks its flags, runs, and says how it ended;
//! here that becomes the exit code.

use std::process::ExitCode;

use bench::cli::{Cli, Mode};
use clap::Parser;
use loadgen::Failure;

fn main() -> ExitCode {
    let result = match Cli::parse().mode {
        Mode::Load(args) => loadgen::modes::load(args),
        Mode::Echo(args) => loadgen::modes::echo(args),
        Mode::Hold(args) => loadgen::modes::hold(args),
        Mode::Compare(args) => bench::compare::command(args),
        Mode::Cores(args) => bench::cores::command(args),
        Mode::Timeline(args) => bench::timeline::command(args),
        Mode::Live(args) => bench::live::command(args),
        Mode::LiveHold(args) => bench::live::holder::serve(args.addr),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(why)) => {
            eprintln!("bench: {why}");
            ExitCode::from(2)
        }
        Err(Failure::Run(why)) => {
            eprintln!("bench: {why}");
            ExitCode::from(1)
        }
    }
}
