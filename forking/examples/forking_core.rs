//! The forking model as a student first writes it: a child process per
//! client, which serves it with the blocking server's per-client loop and
//! exits. The real server is `src/server.rs`; the forking chapter runs the
//! conformance suite against this core and shows which cases it fails.

use std::io;

use nix::unistd::{ForkResult, fork};
use plumbing::Server;

fn main() -> std::process::ExitCode {
    plumbing::run_core("forking_core", forking::PORT, serve)
}

fn serve(server: Server) -> io::Result<()> {
    for stream in server.listener.incoming() {
        let stream = stream?;
        // SAFETY: the child runs only the blocking per-client loop on its
        // one thread, then exits; it touches no lock another thread held.
        match unsafe { fork() }? {
            ForkResult::Child => {
                let mut buf = vec![0u8; blocking::READ_BUF];
                let _ = blocking::serve_client(stream, &server.service, &mut buf);
                std::process::exit(0);
            }
            // The parent closes its copy of the socket and accepts the next.
            ForkResult::Parent { .. } => drop(stream),
        }
    }
    Ok(())
}
