//! The async/await model as a student first writes it: a task per client,
//! written as the blocking server's loop with an `.await` wherever it may
//! wait, on this crate's own executor and reactor. The real server is
//! `src/server.rs`; the chapter runs the conformance suite against this
//! core and shows which cases it fails.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Instant;

use async_await::{Async, Wake, block_on, spawn};
use plumbing::Server;
use protocol::{Connection, Service};

fn main() -> std::process::ExitCode {
    plumbing::run_core("async_await_core", async_await::PORT, |server| {
        block_on(accept_loop(server))
    })
}

/// The accept task: wait until the listener is readable, accept, spawn.
async fn accept_loop(server: Server) -> io::Result<()> {
    server.listener.set_nonblocking(true)?;
    let listener = Async::new(server.listener)?;
    loop {
        listener.readable(None).await;
        listener.clear_readable();
        let (stream, _) = listener.get_ref().accept()?;
        stream.set_nonblocking(true)?;
        spawn(serve_client(Async::new(stream)?, server.service.clone()));
    }
}

/// One client: write what is owed, else wait for bytes or the deadline.
async fn serve_client(stream: Async<TcpStream>, service: Arc<Service>) {
    let mut conn = Connection::new(service, Instant::now());
    let mut buf = vec![0u8; 16 * 1024];
    while !conn.is_closed() {
        if conn.wants_write() {
            match stream.get_ref().write(conn.output()) {
                Ok(n) => conn.sent(n, Instant::now()),
                Err(_) => {
                    stream.clear_writable();
                    if stream.writable(conn.next_deadline()).await == Wake::Deadline {
                        conn.fire(Instant::now());
                    }
                }
            }
            continue;
        }
        match stream.readable(conn.next_deadline()).await {
            Wake::Ready => {
                stream.clear_readable();
                match stream.get_ref().read(&mut buf) {
                    Ok(0) => conn.received_eof(Instant::now()),
                    Ok(n) => conn.received(&buf[..n], Instant::now()),
                    Err(_) => {}
                }
            }
            Wake::Deadline => conn.fire(Instant::now()),
        }
    }
}
