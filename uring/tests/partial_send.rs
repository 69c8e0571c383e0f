//! A partial send: the socket took fewer bytes than offered, the send
//! completed with that count, and the loop must submit the tail, not the
//! whole buffer again, and not skip it. The client makes it happen with a
//! tiny receive buffer (4 KiB) and a 16 MiB download read in small bites:
//! the server's socket fills up, and its sends come back short. The test
//! checks every byte, and checks in the trace that short sends did happen
//! (without them it would prove nothing).

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
        found: uring::probe().map(drop),
    };
    conformance::run(vec![conformance::trial(
        "a_short_send_is_followed_by_its_tail".into(),
        Some(&io_uring),
        || {
            a_short_send_is_followed_by_its_tail();
            Ok(())
        },
    )])
}

fn a_short_send_is_followed_by_its_tail() {
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
    let short = stderr
        .lines()
        .filter_map(|line| line.split_once("send (write) ")?.1.split_once(": "))
        .filter_map(|(_, counts)| {
            let mut words = counts.split(' ');
            let sent: usize = words.next()?.parse().ok()?;
            let offered: usize = words.nth(1)?.parse().ok()?;
            Some(sent < offered)
        })
        .filter(|&short| short)
        .count();
    assert!(
        short > 0,
        "no send came back short: the tail was never resubmitted"
    );
}
