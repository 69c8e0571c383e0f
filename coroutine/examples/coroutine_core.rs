//! The coroutine model as a student first writes it: the blocking server's
//! per-client loop, unchanged, in a coroutine per client; may parks the
//! coroutine where a thread would block. The real server is
//! `src/server.rs`; the chapter runs the conformance suite against this
//! core and shows which cases it fails.

use std::io;

use coroutine::{GreenSocket, adopt};
use plumbing::Server;

fn main() -> std::process::ExitCode {
    plumbing::run_core("coroutine_core", coroutine::PORT, serve)
}

fn serve(server: Server) -> io::Result<()> {
    for stream in server.listener.incoming() {
        // may's socket: non-blocking, registered with may's epoll.
        let stream = GreenSocket(adopt(stream?)?);
        let service = server.service.clone();
        // SAFETY: may's rules for a coroutine: the per-client loop keeps no
        // thread-local storage across a switch and makes no blocking call
        // (every wait goes through may's socket); see `src/server.rs`.
        let _ = unsafe {
            may::coroutine::spawn(move || {
                let mut buf = vec![0u8; coroutine::READ_BUF];
                let _ = blocking::serve_client(stream, &service, &mut buf);
            })
        };
    }
    Ok(())
}
