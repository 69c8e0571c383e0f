//! The whole conformance suite against both binaries of this crate, in every
//! flag combination: level- and edge-triggered, one worker and two.

use conformance::Target;

fn main() -> std::process::ExitCode {
    let epoll = || Target::new("epoll", env!("CARGO_BIN_EXE_epoll"));
    let mio = || Target::new("epoll-mio", env!("CARGO_BIN_EXE_epoll-mio"));
    conformance::main(vec![
        epoll().args(&["--trigger", "level"]),
        epoll().args(&["--trigger", "edge"]),
        epoll().args(&["--workers", "2"]),
        epoll().args(&["--trigger", "edge", "--workers", "2"]),
        mio(),
        mio().args(&["--workers", "2"]),
    ])
}
