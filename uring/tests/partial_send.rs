//! Sends through a full socket: the client has a tiny receive buffer
//! (4 KiB) and reads a 16 MiB download in small bites, so the server's
//! socket is full almost all the time and takes each send in many parts.
//! The loop sends with MSG_WAITALL: the kernel waits for room and sends the
//! rest itself, so every send must complete *whole*, and the bytes arrive
//! in order, none lost, none twice. The test checks every byte, and checks
//! in the trace that every send completed whole and that there were many
//! (at least one per 64 KiB): without MSG_WAITALL the same run shows short
//! sends, and fails here. (What the protocol does with a tail that does come
//! back, after an error, is tested in `protocol`:
//! `lent_output_keeps_order_and_the_bound`.)

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use conformance::{Need, Target};
use socket2::{Domain, Socket, Type};

const SIZE: usize = 16 << 20;

/// A TCP connection to `addr` whose receive buffer is set small before the
/// handshake (the window is fixed then).
fn connect_small(addr: SocketAddr) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket.connect(&addr.into()).expect("connect");
    socket.into()
}

/// A test harness of its own (`harness = false`), so that where io_uring is
/// not available the test is reported as ignored with the reason, as the
/// conformance suite is, instead of passing without having run.
fn main() -> ExitCode {
    let io_uring = Need {
        name: "io_uring",
        found: uring::probe(false).map(drop),
    };
    conformance::run(vec![conformance::trial(
        "every_send_completes_whole_through_a_full_socket".into(),
        Some(&io_uring),
        || {
            every_send_completes_whole_through_a_full_socket();
            Ok(())
        },
    )])
}

fn every_send_completes_whole_through_a_full_socket() {
    let target = Target::new("uring", env!("CARGO_BIN_EXE_uring"));
    let server = target.start(&["--trace"]).expect("the server starts");
    let mut stream = connect_small(server.addr);
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("a timeout");
    write!(
        stream,
        "GET /bytes/{SIZE} HTTP/1.1\r\nConnection: close\r\n\r\n"
    )
    .expect("the request");
    let mut answer = Vec::with_capacity(SIZE + 200);
    let mut bite = [0u8; 8192];
    loop {
        let n = stream.read(&mut bite).expect("reading the answer");
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&bite[..n]);
        // A slow reader: the server's socket stays full, so its sends
        // find room for part of what they offer.
        std::thread::sleep(Duration::from_micros(100));
    }
    let head_end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head")
        + 4;
    let body = &answer[head_end..];
    assert_eq!(body.len(), SIZE, "the whole body, no more, no less");
    let wrong = body
        .iter()
        .enumerate()
        .find(|&(i, &b)| b != b'a' + (i % 26) as u8);
    assert!(
        wrong.is_none(),
        "wrong byte at offset {:?}",
        wrong.map(|(i, _)| i)
    );
    std::thread::sleep(Duration::from_millis(200)); // the last trace lines
    let stderr = server.stderr();
    let sends: Vec<(usize, usize)> = stderr
        .lines()
        .filter_map(|line| line.split_once("send (write) ")?.1.split_once(": "))
        .filter_map(|(_, counts)| {
            let mut words = counts.split(' ');
            let sent: usize = words.next()?.parse().ok()?;
            let offered: usize = words.nth(1)?.parse().ok()?;
            Some((sent, offered))
        })
        .collect();
    assert!(
        sends.len() >= SIZE / (64 << 10),
        "only {} sends traced for {SIZE} bytes",
        sends.len()
    );
    let short: Vec<_> = sends
        .iter()
        .filter(|(sent, offered)| sent < offered)
        .collect();
    assert!(
        short.is_empty(),
        "{} of {} sends came back short, e.g. {:?}",
        short.len(),
        sends.len(),
        &short[..short.len().min(5)]
    );
}
