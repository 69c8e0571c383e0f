//! The poll model as a student first writes it: the select core's loop with
//! an array of `pollfd` instead of two bitmaps. The real server is
//! `src/server.rs` with `src/poll.rs`; the chapter runs the conformance
//! suite against this core and shows which cases it fails.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::time::Instant;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use plumbing::Server;
use protocol::Connection;

fn main() -> std::process::ExitCode {
    plumbing::run_core("poll_core", select::POLL_PORT, serve)
}

fn serve(server: Server) -> io::Result<()> {
    let mut clients: Vec<(TcpStream, Connection)> = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let mut fds = vec![PollFd::new(server.listener.as_fd(), PollFlags::POLLIN)];
        for (stream, conn) in &clients {
            // Read only while the protocol takes bytes: after the client's
            // EOF its socket stays readable, and poll would never sleep.
            let mut events = PollFlags::empty();
            if conn.read_capacity() > 0 {
                events |= PollFlags::POLLIN;
            }
            if conn.wants_write() {
                events |= PollFlags::POLLOUT;
            }
            fds.push(PollFd::new(stream.as_fd(), events));
        }
        let deadline = clients.iter().filter_map(|(_, c)| c.next_deadline()).min();
        let timeout = deadline.map_or(PollTimeout::NONE, |at| {
            let left = at.saturating_duration_since(Instant::now());
            PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)
        });
        poll(&mut fds, timeout)?;
        let answers: Vec<PollFlags> = fds.iter().map(|fd| fd.revents().unwrap()).collect();
        drop(fds);
        let now = Instant::now();
        for ((stream, conn), revents) in clients.iter_mut().zip(&answers[1..]) {
            if revents.intersects(PollFlags::POLLIN | PollFlags::POLLHUP) {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => conn.received_eof(now),
                    Ok(n) => conn.received(&buf[..n], now),
                }
            }
            if conn.next_deadline().is_some_and(|at| at <= now) {
                conn.fire(now);
            }
            if !revents.is_empty() && conn.wants_write() {
                let n = stream.write(conn.output()).unwrap_or(0);
                conn.sent(n, now);
            }
        }
        clients.retain(|(_, conn)| !conn.is_closed());
        if answers[0].contains(PollFlags::POLLIN) {
            let (stream, _) = server.listener.accept()?;
            clients.push((stream, Connection::new(server.service.clone(), now)));
        }
    }
}
