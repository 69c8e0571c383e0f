//! The threaded model as a student first writes it: a thread per client,
//! which serves it with the blocking server's per-client loop. The real
//! server is `src/server.rs`; the threaded chapter runs the conformance
//! suite against this core and shows which cases it fails.

use std::io;

use plumbing::Server;

fn main() -> std::process::ExitCode {
    plumbing::run_core("threaded_core", threaded::PORT, serve)
}

fn serve(server: Server) -> io::Result<()> {
    for stream in server.listener.incoming() {
        let stream = stream?;
        let service = server.service.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; blocking::READ_BUF];
            let _ = blocking::serve_client(stream, &service, &mut buf);
        });
    }
    Ok(())
}
