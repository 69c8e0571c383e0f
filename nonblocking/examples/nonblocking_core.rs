//! The busy-poll model as a student first writes it: every socket
//! non-blocking, and one loop that tries `accept`, then every connection's
//! read and write, over and over. The real server is `src/server.rs`; the
//! chapter runs the conformance suite against this core and shows which
//! cases it fails, each followed by what the real server adds.

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use plumbing::Server;
use protocol::Connection;

fn main() -> std::process::ExitCode {
    plumbing::run_core("nonblocking_core", nonblocking::PORT, serve)
}

fn serve(server: Server) -> io::Result<()> {
    server.listener.set_nonblocking(true)?;
    let mut clients: Vec<(TcpStream, Connection)> = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        // Anyone new? Almost always EAGAIN (WouldBlock): nobody.
        match server.listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(true)?;
                let conn = Connection::new(server.service.clone(), Instant::now());
                clients.push((stream, conn));
            }
            Err(err) if err.kind() == ErrorKind::WouldBlock => {}
            Err(err) => return Err(err),
        }
        // Every connection, ready or not.
        let now = Instant::now();
        for (stream, conn) in &mut clients {
            match stream.read(&mut buf) {
                Ok(0) => conn.received_eof(now),
                Ok(n) => conn.received(&buf[..n], now),
                Err(err) if err.kind() == ErrorKind::WouldBlock => {}
                Err(_) => conn.received_eof(now),
            }
            if conn.next_deadline().is_some_and(|at| at <= now) {
                conn.fire(now);
            }
            if conn.wants_write() {
                if let Ok(n) = stream.write(conn.output()) {
                    conn.sent(n, now);
                }
            }
        }
        clients.retain(|(_, conn)| !conn.is_closed());
    }
}
