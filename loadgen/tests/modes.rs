//! `bench echo` and `bench hold` against small servers of their own: a
//! faithful one, and one that misbehaves, whose fault each mode must report.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use loadgen::echo::{self, EchoConfig};
use loadgen::hold::{self, HoldConfig};
use loadgen::target::Target;

fn serve(handle: fn(TcpStream)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || handle(stream));
        }
    });
    addr
}

/// Echoes every byte, but flips one bit in every 1000th byte when `corrupt`.
fn echo_server(mut stream: TcpStream, corrupt: bool) {
    let mut buf = [0u8; 4096];
    let mut total = 0usize;
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            return;
        }
        for (k, byte) in buf[..n].iter_mut().enumerate() {
            if corrupt && (total + k) % 1000 == 999 {
                *byte ^= 1;
            }
        }
        total += n;
        if stream.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

fn echo_config(addr: SocketAddr) -> EchoConfig {
    EchoConfig {
        addr,
        connections: 4,
        size: 300,
        duration: Duration::from_millis(500),
        timeout: Duration::from_secs(1),
        pid: None,
    }
}

/// A faithful echo server: messages flow, nothing mismatches, no errors.
#[test]
fn echo_counts_messages() {
    let report = echo::run(&echo_config(serve(|s| echo_server(s, false)))).unwrap();
    assert!(report.messages > 100, "{report:#?}");
    assert_eq!(
        (report.mismatches, report.errors.total()),
        (0, 0),
        "{report:#?}"
    );
}

/// An echo server that corrupts bytes: the corrupted messages are mismatches,
/// not successes.
#[test]
fn echo_catches_corruption() {
    let report = echo::run(&echo_config(serve(|s| echo_server(s, true)))).unwrap();
    assert!(report.mismatches > 10, "{report:#?}");
    // One byte in 1000 is flipped and messages are 300 bytes: at most 2 in 3 can pass.
    assert!(report.messages < report.mismatches * 3, "{report:#?}");
}

/// Answers every HEAD; with `hang_up`, closes after the first instead.
fn head_server(mut stream: TcpStream, hang_up: bool) {
    let mut buf = [0u8; 1024];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            return;
        }
        let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 29\r\n\r\n";
        if stream.write_all(answer).is_err() || hang_up {
            return;
        }
    }
}

fn hold_config(addr: SocketAddr) -> HoldConfig {
    HoldConfig {
        target: Target::parse_url(&format!("http://{addr}/numbers.txt")).unwrap(),
        connections: 50,
        ramp_count: 10,
        ramp_every: Duration::from_millis(10),
        keepalive: Duration::from_secs(2), // a HEAD every 1 s
        duration: Duration::from_millis(2500),
        pid: Some(std::process::id()),
        timeout: Duration::from_secs(1),
    }
}

/// Every connection held, HEADs answered, and a sample each second with
/// the "server's" (here, this test process's) memory.
#[test]
fn hold_keeps_every_connection() {
    let report = hold::run(&hold_config(serve(|s| head_server(s, false))), |_| {}).unwrap();
    assert_eq!(
        (report.held_max, report.held_at_end),
        (50, 50),
        "{report:#?}"
    );
    assert_eq!(
        report.refused + report.reset + report.timed_out + report.bad_answers,
        0
    );
    assert!(report.requests >= 50, "{report:#?}");
    assert!(report.samples.len() >= 2 && report.samples.iter().all(|s| s.server_rss.is_some()));
    assert!(report.bench_peak_rss > 0);
}

/// A server that hangs up after one answer: every connection shows as reset.
#[test]
fn hold_reports_resets() {
    let report = hold::run(&hold_config(serve(|s| head_server(s, true))), |_| {}).unwrap();
    assert_eq!(report.reset, 50, "{report:#?}");
    assert_eq!(report.held_at_end, 0, "{report:#?}");
}

/// A server at its limit answers `503` the moment it accepts (as `select`
/// does past FD_SETSIZE): each such connection is refused, not a bad answer.
#[test]
fn hold_counts_503_as_refused() {
    fn full_server(mut stream: TcpStream) {
        let answer =
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let _ = stream.write_all(answer);
    }
    let report = hold::run(&hold_config(serve(full_server)), |_| {}).unwrap();
    assert_eq!(report.refused, 50, "{report:#?}");
    assert_eq!(report.bad_answers + report.reset, 0, "{report:#?}");
    assert_eq!(report.held_at_end, 0, "{report:#?}");
}
