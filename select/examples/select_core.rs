//! The select model as a student first writes it: one loop that builds two
//! fd sets, sleeps in `select(2)` until one is ready (or the earliest
//! deadline), and serves what it reports. The real server is
//! `src/server.rs` with `src/select.rs`; the chapter runs the
//! conformance suite against this core and shows which cases it fails.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::time::Instant;

use nix::sys::select::{FdSet, select};
use nix::sys::time::{TimeVal, TimeValLike};
use plumbing::Server;
use protocol::Connection;

fn main() -> std::process::ExitCode {
    plumbing::run_core("select_core", select::SELECT_PORT, serve)
}

fn serve(server: Server) -> io::Result<()> {
    let mut clients: Vec<(TcpStream, Connection)> = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let (mut reads, mut writes) = (FdSet::new(), FdSet::new());
        reads.insert(server.listener.as_fd());
        for (stream, conn) in &clients {
            // Read only while the protocol takes bytes: after the client's
            // EOF its socket stays readable, and select would never sleep.
            if conn.read_capacity() > 0 {
                reads.insert(stream.as_fd());
            }
            if conn.wants_write() {
                writes.insert(stream.as_fd());
            }
        }
        let deadline = clients.iter().filter_map(|(_, c)| c.next_deadline()).min();
        let mut timeout = deadline.map(|at| {
            let left = at.saturating_duration_since(Instant::now());
            TimeVal::microseconds(left.as_micros() as i64)
        });
        select(None, &mut reads, &mut writes, None, timeout.as_mut())?;
        let ready: Vec<(bool, bool)> = (clients.iter())
            .map(|(s, _)| (reads.contains(s.as_fd()), writes.contains(s.as_fd())))
            .collect();
        let accept = reads.contains(server.listener.as_fd());
        let now = Instant::now();
        for ((stream, conn), (readable, writable)) in clients.iter_mut().zip(ready) {
            if readable {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => conn.received_eof(now),
                    Ok(n) => conn.received(&buf[..n], now),
                }
            }
            if conn.next_deadline().is_some_and(|at| at <= now) {
                conn.fire(now);
            }
            if (readable || writable) && conn.wants_write() {
                let n = stream.write(conn.output()).unwrap_or(0);
                conn.sent(n, now);
            }
        }
        clients.retain(|(_, conn)| !conn.is_closed());
        if accept {
            let (stream, _) = server.listener.accept()?;
            clients.push((stream, Connection::new(server.service.clone(), now)));
        }
    }
}
