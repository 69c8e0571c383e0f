//! The signal-driven model as a student first writes it: every socket
//! raises a real-time signal carrying its fd when it becomes ready; the
//! loop takes one signal at a time with `sigtimedwait` and serves the fd it
//! names. The real server is `src/server.rs`; the chapter runs the
//! conformance suite against this core and shows which cases it fails.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use plumbing::Server;
use protocol::Connection;
use signal_driven::sys::{self, Wake};

fn main() -> std::process::ExitCode {
    // Blocked before any thread exists: they stay pending for `wait`.
    if let Err(err) = signal_driven::block_signals() {
        eprintln!("signal_driven_core: {err}");
        return std::process::ExitCode::from(1);
    }
    plumbing::run_core("signal_driven_core", signal_driven::PORT, serve)
}

fn serve(server: Server) -> io::Result<()> {
    sys::set_async(&server.listener)?;
    let listener = server.listener.as_raw_fd();
    let mut clients: HashMap<RawFd, (TcpStream, Connection)> = HashMap::new();
    let mut buf = [0u8; 16 * 1024];
    // The first round acts as if the listener had signalled: a client that
    // connected before `set_async` raised no signal.
    let mut ready = vec![listener];
    loop {
        while let Some(fd) = ready.pop() {
            if fd == listener {
                // Accept until EAGAIN: one signal may stand for several
                // clients, or for one already accepted. Each new client is
                // read at once (bytes before its `set_async` raised none).
                while let Ok((stream, _)) = server.listener.accept() {
                    sys::set_async(&stream)?;
                    let conn = Connection::new(server.service.clone(), Instant::now());
                    ready.push(stream.as_raw_fd());
                    clients.insert(stream.as_raw_fd(), (stream, conn));
                }
                continue;
            }
            let now = Instant::now();
            if let Some((stream, conn)) = clients.get_mut(&fd) {
                match stream.read(&mut buf) {
                    Ok(0) => conn.received_eof(now),
                    Ok(n) => conn.received(&buf[..n], now),
                    Err(_) => {} // EAGAIN: a signal for bytes already read
                }
            }
        }
        let now = Instant::now();
        for (stream, conn) in clients.values_mut() {
            if conn.next_deadline().is_some_and(|at| at <= now) {
                conn.fire(now);
            }
            if conn.wants_write() {
                let n = stream.write(conn.output()).unwrap_or(0);
                conn.sent(n, now);
            }
        }
        clients.retain(|_, (_, conn)| !conn.is_closed());
        let deadline = clients
            .values()
            .filter_map(|(_, c)| c.next_deadline())
            .min();
        let left = deadline.map_or(Duration::from_secs(3600), |at| {
            at.saturating_duration_since(Instant::now())
        });
        if let Some(Wake::Ready { fd, .. }) = sys::wait(left)? {
            ready.push(fd);
        }
    }
}
