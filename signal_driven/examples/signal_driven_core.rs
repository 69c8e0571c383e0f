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
    let mut clients: HashMap<RawFd, (TcpStream, Connection)> = HashMap::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let deadline = clients
            .values()
            .filter_map(|(_, c)| c.next_deadline())
            .min();
        let left = deadline.map_or(Duration::from_secs(3600), |at| {
            at.saturating_duration_since(Instant::now())
        });
        let wake = sys::wait(left)?;
        let now = Instant::now();
        let ready = match wake {
            // A new client: served at once, as if it had signalled (bytes
            // that came before `set_async` raised no signal).
            Some(Wake::Ready { fd, .. }) if fd == server.listener.as_raw_fd() => {
                let (stream, _) = server.listener.accept()?;
                sys::set_async(&stream)?;
                let conn = Connection::new(server.service.clone(), now);
                let fd = stream.as_raw_fd();
                clients.insert(fd, (stream, conn));
                Some(fd)
            }
            Some(Wake::Ready { fd, .. }) => Some(fd),
            _ => None,
        };
        if let Some((stream, conn)) = ready.and_then(|fd| clients.get_mut(&fd)) {
            match stream.read(&mut buf) {
                Ok(0) => conn.received_eof(now),
                Ok(n) => conn.received(&buf[..n], now),
                Err(_) => {} // EAGAIN: a signal for bytes already read
            }
        }
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
    }
}
