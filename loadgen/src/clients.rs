//! The sources' small clients, written as they wrote them: a thread per
//! client and blocking sockets, because their point is what the *server*
//! does with many clients at once, not how fast the client is.
//!
//! - [`sleepers`]: experiment 3, "ten tasks that each sleep 0.5 s": ten
//!   clients send `GET /delay/500` at once, and the figure is the time until
//!   the last answer. 0.5 s where the server waits for all ten together,
//!   5 s where it serves them one after another.
//! - [`hello_threads`]: experiment 4's echo client: 100 threads that each
//!   connect, send `hello N`, and check the echo. The figure is the time
//!   until all 100 are back.
//! - [`ab`]: experiment 1 runs the real `ab` (apache2-utils), parsed here;
//!   [`wrk`] is run and parsed the same way, beside `bench load`.
//!
//! Every client has a deadline: a server that never answers is a failure
//! with a reason, not a hang.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

/// Runs `clients` threads at once, each doing `one(i)`, and returns the time
/// until the last is done, or the first error.
fn all_at_once(
    clients: usize,
    one: impl Fn(usize) -> io::Result<()> + Sync,
) -> io::Result<Duration> {
    let start = Instant::now();
    thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|i| {
                let one = &one;
                scope.spawn(move || one(i))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("a client panicked")))
            })
            .collect::<io::Result<Vec<()>>>()
    })?;
    Ok(start.elapsed())
}

/// A blocking connection with `timeout` on every read and write.
fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    Ok(stream)
}

/// Experiment 3: `clients` connections each ask `GET /delay/<ms>` at once
/// (`Connection: close`) and read the whole answer; the time until the last
/// `200` is in. Each client waits at most `timeout`.
pub fn sleepers(
    addr: SocketAddr,
    clients: usize,
    ms: u64,
    timeout: Duration,
) -> io::Result<Duration> {
    all_at_once(clients, |_| {
        let mut stream = connect(addr, timeout)?;
        // One write, as a real client sends a small request.
        let request =
            format!("GET /delay/{ms} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes())?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer)?;
        let expected = format!("delayed {ms} ms\n");
        match answer.starts_with(b"HTTP/1.1 200") && answer.ends_with(expected.as_bytes()) {
            true => Ok(()),
            false => Err(io::Error::other(format!(
                "not a 200 `{}`: {:?}",
                expected.trim_end(),
                String::from_utf8_lossy(&answer[..answer.len().min(80)])
            ))),
        }
    })
}

/// Experiment 4's client: `clients` threads each connect, send `hello N\n`,
/// read until they have it back, and close; the time until all are done.
pub fn hello_threads(addr: SocketAddr, clients: usize, timeout: Duration) -> io::Result<Duration> {
    all_at_once(clients, |n| {
        let mut stream = connect(addr, timeout)?;
        let message = format!("hello {n}\n");
        stream.write_all(message.as_bytes())?;
        let mut echoed = vec![0u8; message.len()];
        stream.read_exact(&mut echoed)?;
        match echoed == message.as_bytes() {
            true => Ok(()),
            false => Err(io::Error::other(format!(
                "sent {message:?}, got {:?}",
                String::from_utf8_lossy(&echoed)
            ))),
        }
    })
}

/// What `ab` reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AbReport {
    /// `Requests per second`.
    pub requests_per_s: f64,
    /// The first `Time per request`: the mean across concurrent requests, ms.
    pub mean_ms: f64,
    /// `Failed requests`.
    pub failed: u64,
}

/// Whether `ab` is on `PATH`.
pub fn ab_installed() -> bool {
    installed("ab", "-V")
}

/// Whether `wrk` is on `PATH`.
pub fn wrk_installed() -> bool {
    // `wrk -v` prints its version and exits 1.
    Command::new("wrk").arg("-v").output().is_ok()
}

/// Whether `tool flag` runs and succeeds.
fn installed(tool: &str, flag: &str) -> bool {
    Command::new(tool)
        .arg(flag)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// What a `wrk` run reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WrkReport {
    /// Requests completed (`N requests in ...`).
    pub requests: u64,
    /// `Requests/sec`.
    pub requests_per_s: f64,
    /// Socket errors (connect, read, write, timeout) and non-2xx answers.
    pub errors: u64,
}

/// Runs `wrk -t1 -cCONNECTIONS -dSECONDSs URL` (keep-alive, one thread, as
/// the epoll chapter compares it with `bench load`) and parses its report.
pub fn wrk(url: &str, connections: usize, seconds: u64) -> io::Result<WrkReport> {
    let mut wrk = Command::new("wrk");
    wrk.args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s")])
        .arg(url);
    report_of(wrk, parse_wrk)
}

/// Runs `tool` to the end and reads its report from its stdout with
/// `parse`; a report that does not parse is an error that says how the
/// tool ended and what it said on stderr.
fn report_of<T>(mut tool: Command, parse: fn(&str) -> Option<T>) -> io::Result<T> {
    let output = tool.output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse(&text).ok_or_else(|| {
        io::Error::other(format!(
            "{} exited {} with no report: {}",
            tool.get_program().to_string_lossy(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    })
}

/// The figures of a `wrk` report, or `None` if its summary is missing.
pub fn parse_wrk(report: &str) -> Option<WrkReport> {
    let requests = report
        .lines()
        .find(|l| l.contains(" requests in "))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let requests_per_s = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))?
        .trim()
        .parse()
        .ok()?;
    // "Socket errors: connect 0, read 0, write 0, timeout 0"
    let socket: u64 = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Socket errors:"))
        .map_or(0, |counts| {
            counts
                .split(',')
                .filter_map(|c| c.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum()
        });
    let non_2xx: u64 = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    Some(WrkReport {
        requests,
        requests_per_s,
        errors: socket + non_2xx,
    })
}

/// Runs `ab -q -n REQUESTS -c CONCURRENCY URL` (new connection per request,
/// as the sources ran it) and parses its report.
pub fn ab(url: &str, requests: usize, concurrency: usize) -> io::Result<AbReport> {
    let mut ab = Command::new("ab");
    ab.args(["-q", "-s", "10"])
        .args(["-n", &requests.to_string(), "-c", &concurrency.to_string()])
        .arg(url);
    report_of(ab, parse_ab)
}

/// The three figures of an `ab` report, or `None` if one is missing.
pub fn parse_ab(report: &str) -> Option<AbReport> {
    let field = |name: &str| -> Option<f64> {
        let line = report.lines().find(|l| l.starts_with(name))?;
        line[name.len()..].split_whitespace().next()?.parse().ok()
    };
    Some(AbReport {
        requests_per_s: field("Requests per second:")?,
        mean_ms: field("Time per request:")?,
        failed: field("Failed requests:")? as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// The parser reads the figures ab prints, and refuses a report
    /// without them (ab died before its summary).
    #[test]
    fn parses_an_ab_report() {
        let report = "Concurrency Level:      100\n\
            Time taken for tests:   0.479 seconds\n\
            Complete requests:      10000\n\
            Failed requests:        0\n\
            Requests per second:    20868.19 [#/sec] (mean)\n\
            Time per request:       4.792 [ms] (mean)\n\
            Time per request:       0.048 [ms] (mean, across all concurrent requests)\n";
        assert_eq!(
            parse_ab(report),
            Some(AbReport {
                requests_per_s: 20868.19,
                mean_ms: 4.792,
                failed: 0
            })
        );
        assert_eq!(
            parse_ab("apr_socket_recv: Connection reset by peer\n"),
            None
        );
    }

    /// The parser reads wrk's summary and counts its errors; a report with
    /// no summary (wrk could not connect at all) is refused.
    #[test]
    fn parses_a_wrk_report() {
        let report = "Running 2s test @ http://127.0.0.1:8080/numbers.txt\n\
            \x20 1 threads and 100 connections\n\
            \x20 Thread Stats   Avg      Stdev     Max   +/- Stdev\n\
            \x20   Latency     1.01ms  166.42us   3.92ms   90.52%\n\
            \x20 201234 requests in 2.00s, 18.91MB read\n\
            \x20 Socket errors: connect 0, read 2, write 0, timeout 1\n\
            \x20 Non-2xx or 3xx responses: 4\n\
            Requests/sec: 100584.21\n\
            Transfer/sec:      9.45MB\n";
        assert_eq!(
            parse_wrk(report),
            Some(WrkReport {
                requests: 201234,
                requests_per_s: 100584.21,
                errors: 7
            })
        );
        assert_eq!(parse_wrk("unable to connect to 127.0.0.1:1\n"), None);
    }

    /// Ten sleepers against a server that answers one connection at a time,
    /// each after 50 ms, take ten times 50 ms: the serial case of
    /// experiment 3, with a server written in the test.
    #[test]
    fn sleepers_wait_for_a_serial_server() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            for _ in 0..10 {
                let (mut stream, _) = listener.accept().unwrap();
                // The whole head, so nothing unread is left to turn the
                // close into a reset.
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
                    head.push(byte[0]);
                }
                thread::sleep(Duration::from_millis(50));
                let body = "delayed 50 ms\n";
                write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
            }
        });
        let took = sleepers(addr, 10, 50, Duration::from_secs(5)).unwrap();
        server.join().unwrap();
        assert!(took >= Duration::from_millis(500), "{took:?}");
    }

    /// A server that answers the wrong thing fails the hello client with
    /// the reason, instead of counting it.
    #[test]
    fn hello_threads_check_the_echo() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for stream in listener.incoming().take(3) {
                let mut stream = stream.unwrap();
                let mut line = [0u8; 64];
                let n = stream.read(&mut line).unwrap();
                let _ = stream.write_all(&line[..n].to_ascii_uppercase());
            }
        });
        let err = hello_threads(addr, 3, Duration::from_secs(5)).unwrap_err();
        assert!(err.to_string().contains("got \"HELLO"), "{err}");
    }
}
