//! The whole conformance suite against both binaries of this crate. `select`
//! declares its limit: it cannot watch an fd at or above FD_SETSIZE (1024).

use conformance::Target;

fn main() -> std::process::ExitCode {
    conformance::main(vec![
        Target::new("select", env!("CARGO_BIN_EXE_select")).fd_limit(1024),
        Target::new("poll", env!("CARGO_BIN_EXE_poll")),
    ])
}
