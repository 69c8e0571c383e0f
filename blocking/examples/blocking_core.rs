//! The blocking model as a student first writes it: accept a client, serve
//! it to the end, accept the next. The real server is `src/server.rs`; the
//! blocking chapter runs the conformance suite against this core and shows
//! which cases it fails, each followed by what the real server adds.

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use plumbing::Server;
use protocol::{Connection, Service};

fn main() -> std::process::ExitCode {
    plumbing::run_core("blocking_core", blocking::PORT, serve)
}

fn serve(server: Server) -> io::Result<()> {
    for stream in server.listener.incoming() {
        handle(stream?, &server.service)?;
    }
    Ok(())
}

/// One client, start to end: write what is owed, then wait for its next
/// bytes (or the protocol's next deadline: a `/delay`, a 408).
fn handle(mut stream: TcpStream, service: &Arc<Service>) -> io::Result<()> {
    let mut conn = Connection::new(service.clone(), Instant::now());
    let mut buf = [0u8; 16 * 1024];
    loop {
        while conn.wants_write() {
            let n = stream.write(conn.output())?;
            conn.sent(n, Instant::now());
        }
        if conn.is_closed() {
            return Ok(());
        }
        let left = conn.next_deadline().map(|at| {
            let left = at.saturating_duration_since(Instant::now());
            left.max(Duration::from_millis(1))
        });
        if conn.read_capacity() == 0 {
            // Nothing to read for (the client closed its side, say, with a
            // `/delay` still to answer): a read would return 0 at once, again
            // and again. Only the deadline moves us on.
            std::thread::sleep(left.unwrap_or(Duration::from_millis(1)));
            conn.fire(Instant::now());
            continue;
        }
        stream.set_read_timeout(left)?;
        match stream.read(&mut buf) {
            Ok(0) => conn.received_eof(Instant::now()),
            Ok(n) => conn.received(&buf[..n], Instant::now()),
            Err(err) if err.kind() == ErrorKind::WouldBlock => conn.fire(Instant::now()),
            Err(err) => return Err(err),
        }
    }
}
