//! The flags every server takes (docs/src/contract.md §2). Models add their own flags beside
//! these with `#[command(flatten)]`; clap refuses anything else with a line
//! naming the flag, the usage, and exit code 2.
//!
//! `--help` and `--version` are clap's, declared on each model's own
//! command (`#[command(name = "epoll", version, ...)]` in its `cli.rs`), not
//! here: `version` reads the version of the crate it is written in, so only
//! there does `epoll --version` print epoll's.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::error::ErrorKind;

/// `--proto`: which protocol the connections speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProtoArg {
    /// The HTTP/1.1 subset (GET, HEAD, files and the teaching routes).
    Http,
    /// Every byte received is sent back.
    Echo,
}

/// The part of the command line that is the same for every model.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Address to listen on [default: 127.0.0.1:<the model's port>]; port 0
    /// picks a free one.
    #[arg(long, value_name = "IP:PORT")]
    pub addr: Option<SocketAddr>,

    /// Protocol to speak.
    #[arg(long, value_enum, default_value_t = ProtoArg::Http)]
    pub proto: ProtoArg,

    /// Serve files from this directory instead of the embedded default site.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Close a connection that moves no byte for this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub idle_timeout: u64,

    /// Most connections served at once; models that hold more say how they refuse.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_conns: u64,

    /// Print one line per kernel interaction to stderr.
    #[arg(long)]
    pub trace: bool,
}

/// A byte count for a flag such as `--stack-size`, refused (with a line
/// saying why) outside `min..=max`. Models call it from their own
/// `value_parser` function, which names their limits.
pub fn parse_bytes(text: &str, min: usize, max: usize) -> Result<usize, String> {
    let bytes: usize = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of bytes"))?;
    if bytes < min {
        return Err(format!("{bytes} is below the minimum, {min}"));
    }
    if bytes > max {
        return Err(format!("{bytes} is above the maximum, {max}"));
    }
    Ok(bytes)
}

/// Parses the command line into a model's `Args`. `--help` and `--version`
/// print and exit 0. Any mistake prints one line naming the flag, then the
/// usage, on stderr, and exits 2 (docs/src/contract.md §2); clap alone would omit the usage for a bad value.
pub fn parse<Args: clap::Parser>() -> Args {
    parse_with(Args::command())
}

/// [`parse`] with `command`, the `Args`' own command line changed at run
/// time: a core's, named for the core by [`run_core`](crate::run_core).
pub(crate) fn parse_with<Args: clap::FromArgMatches>(mut command: clap::Command) -> Args {
    let parsed = command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|matches| Args::from_arg_matches(&matches));
    match parsed {
        Ok(args) => args,
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            err.exit()
        }
        Err(err) => {
            let rendered = err.to_string();
            let first_line = rendered.lines().next().unwrap_or("error: bad command line");
            let usage = command.render_usage();
            eprintln!("{first_line}\n{usage}\nFor more information, try '--help'.");
            std::process::exit(2);
        }
    }
}
