//! `bench load` against small servers that misbehave on purpose: each kind of
//! failure must be counted as its own error kind, never as a success, and a
//! run must end by itself whatever the server does.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use loadgen::load::{self, LoadConfig, LoadReport, Shared, Stop};
use loadgen::stats::Errors;
use loadgen::target::Target;

/// Starts a server that calls `answer` on every connection (each on its own
/// thread) and returns its URL. The threads die with the test process.
fn serve(answer: fn(TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream));
        }
    });
    url
}

/// Reads one request head; false at EOF.
fn read_request(stream: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    true
}

fn config(url: &str, stop: Stop) -> LoadConfig {
    LoadConfig {
        target: Target::parse_url(url).unwrap(),
        connections: 1,
        threads: 1,
        stop,
        keepalive: true,
        pipeline: 1,
        rate: None,
        timeout: Duration::from_millis(300),
        head: false,
        pid: None,
    }
}

fn run(config: &LoadConfig) -> LoadReport {
    let start = Instant::now();
    let report = load::run(config, &Shared::default()).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the run did not end by itself"
    );
    report
}

/// Runs 5 requests against `answer` and checks the error counts exactly.
fn expect(answer: fn(TcpStream), successes: u64, errors: Errors) {
    let report = run(&config(&serve(answer), Stop::Requests(5)));
    assert_eq!(report.errors, errors, "{report:#?}");
    assert_eq!(report.requests, successes, "{report:#?}");
}

/// A well-behaved server: every request a success, no error.
#[test]
fn correct_server_all_successes() {
    expect(
        |mut s| {
            while read_request(&mut s) {
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
                    .unwrap();
            }
        },
        5,
        Errors::default(),
    );
}

/// Content-Length 10, then 3 bytes and a close: a truncated body.
#[test]
fn truncated_body_is_a_body_error() {
    expect(
        |mut s| {
            read_request(&mut s);
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
                .unwrap();
        },
        0,
        Errors {
            body: 5,
            ..Errors::default()
        },
    );
}

/// Content-Length 3 with 6 bytes sent: the surplus is bytes nobody asked for.
#[test]
fn body_longer_than_announced_is_a_body_error() {
    let report = run(&config(
        &serve(|mut s| {
            while read_request(&mut s) {
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef")
                    .unwrap();
            }
        }),
        Stop::Requests(5),
    ));
    // Each response's announced part is framed correctly; its surplus is an error.
    assert_eq!(
        report.errors,
        Errors {
            body: 5,
            ..Errors::default()
        },
        "{report:#?}"
    );
}

/// A server that reads the request and never answers: a timeout, not a hang.
#[test]
fn stall_is_a_timeout() {
    expect(
        |mut s| {
            read_request(&mut s);
            std::thread::sleep(Duration::from_secs(30));
        },
        0,
        Errors {
            timeout: 5,
            ..Errors::default()
        },
    );
}

/// A reset in answer to a request: a read error.
#[test]
fn reset_is_a_read_error() {
    expect(
        |mut s| {
            read_request(&mut s);
            socket2::SockRef::from(&s)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
        },
        0,
        Errors {
            read: 5,
            ..Errors::default()
        },
    );
}

/// A 500, and a head that is not HTTP: status errors.
#[test]
fn wrong_status_and_garbage_are_status_errors() {
    expect(
        |mut s| {
            while read_request(&mut s) {
                s.write_all(b"HTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\nno")
                    .unwrap();
            }
        },
        0,
        Errors {
            status: 5,
            ..Errors::default()
        },
    );
    expect(
        |mut s| {
            read_request(&mut s);
            s.write_all(b"SSH-2.0-OpenSSH\r\n\r\n").unwrap();
        },
        0,
        Errors {
            status: 5,
            ..Errors::default()
        },
    );
}

/// Nobody listening: connect errors, and the run still ends.
#[test]
fn refused_is_a_connect_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let report = run(&config(
        &format!("http://127.0.0.1:{port}/"),
        Stop::Requests(5),
    ));
    assert_eq!(
        report.errors,
        Errors {
            connect: 5,
            ..Errors::default()
        },
        "{report:#?}"
    );
}

/// With --rate, a request that waited behind a stall is charged for the
/// wait: latency counts from its planned send time. One connection, 100
/// req/s, and the server holds its first answer for 500 ms: about 50 planned
/// requests queue behind it, and each must show the time it queued.
#[test]
fn rate_latency_includes_time_waiting_to_be_sent() {
    let url = serve(|mut s| {
        let mut first = true;
        while read_request(&mut s) {
            if std::mem::take(&mut first) {
                std::thread::sleep(Duration::from_millis(500));
            }
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .unwrap();
        }
    });
    let mut config = config(&url, Stop::After(Duration::from_millis(1500)));
    config.rate = Some(100.0);
    config.timeout = Duration::from_secs(2);
    let report = run(&config);
    assert_eq!(report.errors, Errors::default(), "{report:#?}");
    let slow = report.histogram.count_between(100_000, u64::MAX);
    assert!(
        report.latency.max_us >= 450_000,
        "max {} us",
        report.latency.max_us
    );
    assert!(
        slow >= 30,
        "only {slow} requests over 100 ms: the queueing was not counted"
    );
}
