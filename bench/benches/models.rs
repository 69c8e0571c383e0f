//! `cargo bench -p bench`: Criterion over every model binary of the
//! workspace, each as it comes (no model flags), started once on a free
//! port and stopped by its PID afterwards; `tokio_ref`, the reference, is
//! named `tokio_ref (reference)`. Two benchmarks per model:
//!
//! - `single/MODEL`: one `GET /numbers.txt` on a keep-alive connection,
//!   the whole answer read: the latency of one request when nothing else is
//!   happening (what the model's wait-and-wake path costs).
//! - `batch16/MODEL`: 16 requests at once, each on a new connection with
//!   `Connection: close`, all answers read: how the model takes a burst of
//!   clients (accept, a thread, a process, a task each...). Every model can
//!   run it, the blocking server too: it serves the 16 one after another.
//!
//! It builds the servers first (`cargo build --release`), like `bench
//! compare`. With 2 s of measurement and 1 s of warm-up per benchmark, the
//! whole suite takes about 1.5 minutes; one model: `cargo bench -p bench --
//! epoll` (Criterion's filter matches the benchmark names; every server is
//! still started, which takes a few milliseconds each). Reports go to
//! `target/criterion/`.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bench::compare::{self, Server};
use criterion::Criterion;

/// Requests in a burst.
const BATCH: usize = 16;

fn main() {
    compare::build("--bins").expect("the servers build");
    let workspace = compare::workspace().expect("cargo metadata");
    let mut criterion = Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(20)
        .configure_from_args();
    for binary in &workspace.binaries {
        let server =
            Server::start(&workspace.bin_dir.join(binary), &[]).expect("the server starts");
        let addr = server.addr;
        // As the tables name it: `tokio_ref (reference)` for a reference.
        let label = compare::shown_name(binary, &[]);
        let mut client = TcpStream::connect(addr).expect("connect");
        client.set_nodelay(true).expect("TCP_NODELAY");
        criterion.bench_function(&format!("single/{label}"), |b| {
            b.iter(|| get(&mut client).expect("an answer"));
        });
        drop(client); // the blocking server serves one connection at a time
        criterion.bench_function(&format!("batch{BATCH}/{label}"), |b| {
            b.iter(|| burst(addr).expect("every answer"));
        });
        drop(server); // SIGTERM by PID, then wait
    }
    criterion.final_summary();
}

/// Sends `GET /numbers.txt` on the keep-alive `stream` and reads the whole
/// answer: the head, then `Content-Length` bytes of body.
fn get(stream: &mut TcpStream) -> io::Result<usize> {
    stream.write_all(b"GET /numbers.txt HTTP/1.1\r\n\r\n")?;
    let mut answer = Vec::with_capacity(256);
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        answer.extend_from_slice(&buf[..n]);
        if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse().ok())
                .ok_or_else(|| io::Error::other("no Content-Length"))?;
            if answer.len() >= end + 4 + length {
                return Ok(answer.len());
            }
        }
    }
}

/// `BATCH` new connections at once, each asking once with `Connection:
/// close`; returns when every answer has been read to its end.
fn burst(addr: SocketAddr) -> io::Result<()> {
    let mut streams = Vec::with_capacity(BATCH);
    for _ in 0..BATCH {
        let mut stream = TcpStream::connect(addr)?;
        stream.write_all(b"GET /numbers.txt HTTP/1.1\r\nConnection: close\r\n\r\n")?;
        streams.push(stream);
    }
    for mut stream in streams {
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer)?;
        if !answer.starts_with(b"HTTP/1.1 200") {
            return Err(io::Error::other("not a 200"));
        }
    }
    Ok(())
}
