//! The epoll model as a student first writes it: register each socket once,
//! sleep in `epoll_wait` until some are ready (or the earliest deadline),
//! serve only those, level-triggered. The real server is `src/server.rs`;
//! the chapter runs the conformance suite against this core and shows which
//! cases it fails, each followed by what the real server adds.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Instant;

use nix::poll::PollTimeout;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};
use plumbing::Server;
use protocol::Connection;

const LISTENER: u64 = u64::MAX;
const IN: EpollFlags = EpollFlags::EPOLLIN;

/// A client: its socket and its protocol state.
type Client = (TcpStream, Connection);

fn main() -> std::process::ExitCode {
    plumbing::run_core("epoll_core", epoll::EPOLL_PORT, serve)
}

fn serve(server: Server) -> io::Result<()> {
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
    epoll.add(server.listener.as_fd(), EpollEvent::new(IN, LISTENER))?;
    let mut clients: HashMap<u64, Client> = HashMap::new();
    let mut events = vec![EpollEvent::empty(); 1024];
    let mut buf = [0u8; 16 * 1024];
    loop {
        let deadline = Iterator::min(clients.values().filter_map(|(_, c)| c.next_deadline()));
        let timeout = deadline.map_or(PollTimeout::NONE, |at| {
            let left = at.saturating_duration_since(Instant::now());
            PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)
        });
        let n = epoll.wait(&mut events, timeout)?;
        let now = Instant::now();
        for event in &events[..n] {
            let token = event.data();
            if token == LISTENER {
                let (stream, _) = server.listener.accept()?;
                let token = stream.as_raw_fd() as u64;
                epoll.add(stream.as_fd(), EpollEvent::new(IN, token))?;
                let conn = Connection::new(server.service.clone(), now);
                clients.insert(token, (stream, conn));
                continue;
            }
            let client = clients.get_mut(&token).unwrap();
            if event.events().contains(IN) {
                let (stream, conn) = &mut *client;
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => conn.received_eof(now),
                    Ok(n) => conn.received(&buf[..n], now),
                }
            }
            write(&epoll, token, client)?;
        }
        // Deadlines: a scan over every connection (the real server keeps a heap).
        for (&token, client) in &mut clients {
            if client.1.next_deadline().is_some_and(|at| at <= now) {
                client.1.fire(now);
                write(&epoll, token, client)?;
            }
        }
        clients.retain(|_, (_, conn)| !conn.is_closed());
    }
}

/// Writes what is owed, and asks for EPOLLOUT while some is left, and for
/// EPOLLIN only while the protocol takes bytes (after the client's EOF its
/// socket stays readable, and epoll_wait would never sleep).
fn write(epoll: &Epoll, token: u64, (stream, conn): &mut Client) -> io::Result<()> {
    if conn.wants_write() {
        let n = stream.write(conn.output()).unwrap_or(0);
        conn.sent(n, Instant::now());
    }
    let mut interest = EpollFlags::empty();
    if conn.read_capacity() > 0 {
        interest |= IN;
    }
    if conn.wants_write() {
        interest |= EpollFlags::EPOLLOUT;
    }
    Ok(epoll.modify(stream.as_fd(), &mut EpollEvent::new(interest, token))?)
}
