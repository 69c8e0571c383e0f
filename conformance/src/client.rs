//! A raw-bytes client for the cases: it sends exactly the bytes it is given
//! and parses responses with its own small parser, so a bug in the servers'
//! shared `protocol` crate cannot hide behind the same bug here.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

/// How long any single read may wait before the case fails.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A client connection.
pub struct Client {
    stream: TcpStream,
    /// Bytes read but not yet consumed by a parsed response.
    pending: Vec<u8>,
    /// A response's head was read and its body is not all in yet.
    in_body: bool,
}

/// One parsed response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lower-cased) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body (empty for a response to HEAD).
    pub body: Vec<u8>,
}

impl Response {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How the server ended a connection we expected it to end.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// A clean FIN.
    Eof,
    /// A reset: the server closed with our unread bytes in its buffer. Once
    /// the response was read, this counts as closed too.
    Reset,
}

impl Client {
    /// Connects with a read timeout of [`READ_TIMEOUT`].
    pub fn connect(addr: SocketAddr) -> Result<Client, String> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .map_err(|e| format!("connect {addr}: {e}"))?;
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Client {
            stream,
            pending: Vec::new(),
            in_body: false,
        })
    }

    /// The socket, for cases that need to do something unusual with it.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Sends all of `bytes`.
    pub fn send(&mut self, bytes: impl AsRef<[u8]>) -> Result<(), String> {
        self.stream
            .write_all(bytes.as_ref())
            .map_err(|e| format!("send: {e}"))
    }

    /// After a failed read of a response: whether not a byte of it had
    /// come (the connection ended between two responses, cleanly).
    pub fn nothing_of_a_response(&self) -> bool {
        self.pending.is_empty() && !self.in_body
    }

    /// Closes with a reset instead of a FIN (SO_LINGER 0): what a client
    /// that crashes or gives up abruptly looks like to the server.
    pub fn reset(self) -> Result<(), String> {
        socket2::SockRef::from(&self.stream)
            .set_linger(Some(Duration::ZERO))
            .map_err(|e| e.to_string())
    }

    /// Half-closes: the server reads EOF, and may still answer.
    pub fn shutdown_write(&self) -> Result<(), String> {
        self.stream
            .shutdown(Shutdown::Write)
            .map_err(|e| e.to_string())
    }

    /// Sends a GET for `path` (HTTP/1.1, keep-alive) and reads its response.
    pub fn get(&mut self, path: &str) -> Result<Response, String> {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n"))?;
        self.response()
    }

    /// Reads one response to a GET (body by `Content-Length`).
    pub fn response(&mut self) -> Result<Response, String> {
        self.read_response(false)
    }

    /// Reads one response to a HEAD (headers only, whatever `Content-Length` says).
    pub fn head_response(&mut self) -> Result<Response, String> {
        self.read_response(true)
    }

    fn read_response(&mut self, head_only: bool) -> Result<Response, String> {
        let end = loop {
            if let Some(end) = find(&self.pending, b"\r\n\r\n") {
                break end + 4;
            }
            if self.fill()? == 0 {
                return Err(format!(
                    "EOF inside a response head: {:?}",
                    self.pending_text()
                ));
            }
        };
        let head = String::from_utf8(self.pending[..end].to_vec())
            .map_err(|_| "response head is not UTF-8".to_string())?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let headers: Vec<(String, String)> = lines
            .filter(|line| !line.is_empty())
            .map(|line| {
                let (name, value) = line.split_once(':').unwrap_or((line, ""));
                (name.to_ascii_lowercase(), value.trim().to_string())
            })
            .collect();
        let mut response = Response {
            status,
            headers,
            body: Vec::new(),
        };
        let length: usize = response
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("no valid Content-Length in {head:?}"))?;
        if response.header("content-type").is_none() {
            return Err(format!("no Content-Type in {head:?}"));
        }
        self.pending.drain(..end);
        self.in_body = true;
        if !head_only {
            while self.pending.len() < length {
                if self.fill()? == 0 {
                    return Err(format!(
                        "EOF after {} of {length} body bytes",
                        self.pending.len()
                    ));
                }
            }
            response.body = self.pending.drain(..length).collect();
        }
        self.in_body = false;
        Ok(response)
    }

    /// Expects the server to end the connection within [`READ_TIMEOUT`],
    /// sending nothing more.
    pub fn expect_closed(&mut self) -> Result<Ended, String> {
        if !self.pending.is_empty() {
            return Err(format!("unexpected bytes: {:?}", self.pending_text()));
        }
        let mut buf = [0u8; 1024];
        match read_some(&self.stream, &mut buf) {
            Ok(0) => Ok(Ended::Eof),
            Ok(n) => Err(format!(
                "expected close, got {:?}",
                String::from_utf8_lossy(&buf[..n])
            )),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => Ok(Ended::Reset),
            Err(e) => Err(format!("expected close, got {e}")),
        }
    }

    /// Reads everything until EOF.
    pub fn read_to_end(&mut self) -> Result<Vec<u8>, String> {
        while self.fill()? > 0 {}
        Ok(std::mem::take(&mut self.pending))
    }

    /// Reads what arrives within `wait`: for checking that nothing does.
    pub fn read_within(&mut self, wait: Duration) -> Result<Vec<u8>, String> {
        self.stream
            .set_read_timeout(Some(wait))
            .map_err(|e| e.to_string())?;
        let result = self.fill();
        self.stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .map_err(|e| e.to_string())?;
        match result {
            Ok(_) => Ok(std::mem::take(&mut self.pending)),
            Err(e) if e.contains("timed out") => Ok(std::mem::take(&mut self.pending)),
            Err(e) => Err(e),
        }
    }

    fn fill(&mut self) -> Result<usize, String> {
        let mut buf = [0u8; 64 * 1024];
        match read_some(&self.stream, &mut buf) {
            Ok(n) => {
                self.pending.extend_from_slice(&buf[..n]);
                Ok(n)
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Err(format!("read timed out; had {:?}", self.pending_text()))
            }
            Err(e) => Err(format!("read: {e}")),
        }
    }

    fn pending_text(&self) -> String {
        let text = String::from_utf8_lossy(&self.pending);
        text.chars().take(300).collect()
    }
}

/// One `read`, retried on EINTR. The test process installs no signal
/// handler, but on Linux a socket read with `SO_RCVTIMEO` returns EINTR after
/// the process is stopped and resumed (signal(7)), as a frozen and thawed
/// sandbox is. That says nothing about the server, so it is retried.
pub fn read_some(mut stream: &TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match stream.read(buf) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A small deterministic generator (xorshift64*) for chunk sizes: the same
/// seed gives the same sequence, so a failure can be replayed.
pub struct Rng(u64);

impl Rng {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// A number in `low..=high`.
    pub fn range(&mut self, low: usize, high: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        low + (x % (high - low + 1) as u64) as usize
    }
}

/// Checks a condition, failing the case with `message` when it does not hold.
pub fn check(condition: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(message()) }
}
