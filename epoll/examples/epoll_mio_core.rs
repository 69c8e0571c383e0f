//! The epoll model on mio as a student first writes it: register each
//! socket once, sleep in `poll` until some are ready, and, since mio is
//! always edge-triggered, read and write each until `WouldBlock`. The real
//! server is `src/mio_server.rs`; the chapter runs the conformance suite
//! against this core and shows which cases it fails.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::time::Instant;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use plumbing::Server;
use protocol::Connection;

const LISTENER: Token = Token(usize::MAX);

fn main() -> std::process::ExitCode {
    plumbing::run_core("epoll_mio_core", epoll::EPOLL_MIO_PORT, serve)
}

fn serve(server: Server) -> io::Result<()> {
    server.listener.set_nonblocking(true)?;
    let mut listener = TcpListener::from_std(server.listener);
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut clients: HashMap<Token, (TcpStream, Connection)> = HashMap::new();
    let (mut events, mut next, mut buf) = (Events::with_capacity(1024), 0, [0u8; 16 * 1024]);
    loop {
        let deadline = clients
            .values()
            .filter_map(|(_, c)| c.next_deadline())
            .min();
        poll.poll(
            &mut events,
            deadline.map(|at| at.saturating_duration_since(Instant::now())),
        )?;
        let now = Instant::now();
        for event in &events {
            if event.token() == LISTENER {
                while let Ok((mut stream, _)) = listener.accept() {
                    let token = Token(next);
                    next += 1;
                    let both = Interest::READABLE | Interest::WRITABLE;
                    poll.registry().register(&mut stream, token, both)?;
                    clients.insert(
                        token,
                        (stream, Connection::new(server.service.clone(), now)),
                    );
                }
                continue;
            }
            let Some((stream, conn)) = clients.get_mut(&event.token()) else {
                continue;
            };
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => break conn.received_eof(now),
                    Ok(n) => conn.received(&buf[..n], now),
                    Err(err) if err.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => break conn.received_eof(now),
                }
            }
        }
        for (stream, conn) in clients.values_mut() {
            if conn.next_deadline().is_some_and(|at| at <= now) {
                conn.fire(now);
            }
            while conn.wants_write() {
                match stream.write(conn.output()) {
                    Ok(n) => conn.sent(n, now),
                    Err(_) => break,
                }
            }
        }
        clients.retain(|_, (_, conn)| !conn.is_closed());
    }
}
