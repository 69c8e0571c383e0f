//! The whole conformance suite against both binaries of this crate, in
//! every variant `epoll::BINARIES` declares: level- and edge-triggered, one
//! worker and two.

fn main() -> std::process::ExitCode {
    conformance::main(conformance::declared(epoll::BINARIES, |name| match name {
        "epoll" => env!("CARGO_BIN_EXE_epoll"),
        _ => env!("CARGO_BIN_EXE_epoll-mio"),
    }))
}
