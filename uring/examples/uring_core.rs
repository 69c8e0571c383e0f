//! The io_uring model as a student first writes it: queue an `accept`, a
//! `recv` per client and a `send` when there is something to say, submit
//! and wait in one call, act on what completed. The real server is
//! `src/server.rs`; the chapter runs the suite against this core.

use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd};
use std::time::Instant;

use io_uring::types::{Fd, SubmitArgs, Timespec};
use io_uring::{IoUring, cqueue, opcode, squeue};
use plumbing::Server;
use protocol::Connection;

const ACCEPT: u64 = 0;
const RECV: u64 = 1 << 32;
const SEND: u64 = 2 << 32;

/// A client and the buffers its operations use, kept until they complete.
struct Client {
    stream: TcpStream,
    conn: Connection,
    buf: Vec<u8>,
    out: Vec<u8>,
    in_flight: u64, // RECV | SEND
}

fn main() -> std::process::ExitCode {
    plumbing::run_core("uring_core", uring::PORT, serve)
}

fn push(ring: &mut IoUring, entry: &squeue::Entry) {
    // SAFETY: the buffers an entry names live in a `Client` that is kept
    // until the operation completes.
    while unsafe { ring.submission().push(entry) }.is_err() {
        let _ = ring.submit();
    }
}

fn serve(server: Server) -> io::Result<()> {
    let mut ring = IoUring::new(256)?;
    let listener = Fd(server.listener.as_raw_fd());
    let accept = opcode::Accept::new(listener, std::ptr::null_mut(), std::ptr::null_mut());
    let accept = accept.build().user_data(ACCEPT);
    push(&mut ring, &accept);
    let mut clients: HashMap<u64, Client> = HashMap::new();
    loop {
        let deadline = Iterator::min(clients.values().filter_map(|c| c.conn.next_deadline()));
        let left = deadline.map(|at| Timespec::from(at.saturating_duration_since(Instant::now())));
        let args = left
            .as_ref()
            .map_or(SubmitArgs::new(), |t| SubmitArgs::new().timespec(t));
        match ring.submitter().submit_with_args(1, &args) {
            Err(err) if err.raw_os_error() != Some(nix::libc::ETIME) => return Err(err),
            _ => {}
        }
        let done: Vec<cqueue::Entry> = ring.completion().collect();
        let now = Instant::now();
        for (data, n) in done.iter().map(|c| (c.user_data(), c.result())) {
            if data == ACCEPT {
                // SAFETY: a completed accept's result is a new fd nobody else owns.
                let stream = unsafe { TcpStream::from_raw_fd(n) };
                let conn = Connection::new(server.service.clone(), now);
                let (buf, out, in_flight) = (vec![0; 16384], Vec::new(), 0);
                let client = Client {
                    stream,
                    conn,
                    buf,
                    out,
                    in_flight,
                };
                clients.insert(n as u64, client);
                push(&mut ring, &accept);
            } else if let Some(c) = clients.get_mut(&(data & 0xffff_ffff)) {
                let op = data & !0xffff_ffff;
                c.in_flight &= !op;
                match op {
                    RECV if n > 0 => c.conn.received(&c.buf[..n as usize], now),
                    RECV => c.conn.received_eof(now),
                    _ => c.conn.sent(n.max(0) as usize, now),
                }
            }
        }
        for (&fd, c) in &mut clients {
            if c.conn.next_deadline().is_some_and(|at| at <= now) {
                c.conn.fire(now);
            }
            if c.in_flight & RECV == 0 && c.conn.read_capacity() > 0 {
                c.in_flight |= RECV;
                let recv = opcode::Recv::new(Fd(fd as i32), c.buf.as_mut_ptr(), 16384);
                push(&mut ring, &recv.build().user_data(RECV | fd));
            }
            if c.in_flight & SEND == 0 && c.conn.wants_write() {
                (c.in_flight, c.out) = (c.in_flight | SEND, c.conn.output().to_vec());
                let send = opcode::Send::new(Fd(fd as i32), c.out.as_ptr(), c.out.len() as u32);
                push(&mut ring, &send.build().user_data(SEND | fd));
            }
            if c.conn.is_closed() && c.in_flight & SEND == 0 {
                let _ = c.stream.shutdown(Shutdown::Both); // ends the recv in flight
            }
        }
        clients.retain(|_, c| !(c.conn.is_closed() && c.in_flight == 0));
    }
}
