//! The client side of HTTP/1.1: an incremental response parser that checks
//! what the servers send. The head is parsed by `httparse` (hyper's parser:
//! the teaching parser is the protocol crate's, for requests); the framing
//! around it, a body counted by `Content-Length` and a head split across
//! reads, is here. It parses straight from the read buffer, and copies only
//! a head split across two reads.

/// A complete response, as far as the bench cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// The status code.
    pub status: u16,
    /// The server said `Connection: close`: this is the connection's last response.
    pub close: bool,
}

/// Why a response was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// The status line or a header could not be parsed, or there is no
    /// `Content-Length` (every server here sends one).
    Head,
}

/// Longest response head accepted (nginx's are about 250 bytes).
const MAX_HEAD: usize = 16 * 1024;

/// Parser state for one connection.
#[derive(Debug, Default)]
pub struct Parser {
    /// A head split across reads, so far.
    partial: Vec<u8>,
    /// Body bytes still expected for the current response, and that response.
    body: Option<(u64, Parsed)>,
}

impl Parser {
    /// Whether a response is half-received (some of its head or body is in).
    pub fn mid_response(&self) -> bool {
        !self.partial.is_empty() || self.body.is_some()
    }

    /// Feeds received bytes; calls `done` for each complete response.
    /// `head_only(n)` says whether the n-th response from now answers a HEAD
    /// (no body whatever `Content-Length` says). Returns the bytes consumed
    /// before an error, if one happened.
    pub fn feed(
        &mut self,
        mut data: &[u8],
        head_only: impl Fn() -> bool,
        mut done: impl FnMut(Parsed),
    ) -> Result<(), Malformed> {
        while !data.is_empty() {
            if let Some((remaining, parsed)) = &mut self.body {
                let take = (*remaining).min(data.len() as u64);
                *remaining -= take;
                data = &data[take as usize..];
                if *remaining == 0 {
                    let parsed = *parsed;
                    self.body = None;
                    done(parsed);
                }
                continue;
            }
            // In the head: parse it from the read buffer when it is all
            // there, else from (partial + data).
            let head = if self.partial.is_empty() {
                match parse_head(data)? {
                    Some((len, parsed, length)) => {
                        data = &data[len..];
                        (parsed, length)
                    }
                    None => {
                        self.partial.extend_from_slice(data);
                        return self.check_partial();
                    }
                }
            } else {
                let before = self.partial.len();
                self.partial.extend_from_slice(data);
                match parse_head(&self.partial)? {
                    Some((len, parsed, length)) => {
                        data = &data[len - before..];
                        self.partial.clear();
                        (parsed, length)
                    }
                    None => return self.check_partial(),
                }
            };
            match head {
                (parsed, 0) => done(parsed),
                (parsed, _) if head_only() => done(parsed),
                (parsed, length) => self.body = Some((length, parsed)),
            }
        }
        Ok(())
    }

    fn check_partial(&self) -> Result<(), Malformed> {
        if self.partial.len() > MAX_HEAD {
            Err(Malformed::Head)
        } else {
            Ok(())
        }
    }
}

/// Most headers a response may have (the servers send three to five,
/// nginx about seven).
const MAX_HEADERS: usize = 32;

/// A head at the start of `buf`, parsed by `httparse`: its length, its
/// status and `Connection: close`, and its `Content-Length`; `None` while
/// the head is not all in.
fn parse_head(buf: &[u8]) -> Result<Option<(usize, Parsed, u64)>, Malformed> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(Malformed::Head),
    };
    let status = response.code.ok_or(Malformed::Head)?;
    let mut length = None;
    let mut close = false;
    for header in response.headers.iter() {
        let value = header.value.trim_ascii();
        if header.name.eq_ignore_ascii_case("content-length") {
            let text = std::str::from_utf8(value).map_err(|_| Malformed::Head)?;
            length = Some(text.parse::<u64>().map_err(|_| Malformed::Head)?);
        } else if header.name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case(b"close");
        }
    }
    let length = length.ok_or(Malformed::Head)?;
    Ok(Some((len, Parsed { status, close }, length)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

    /// Two responses, fed whole and split at every point, parse the same.
    #[test]
    fn every_split() {
        for cut in 0..=TWO.len() {
            let mut parser = Parser::default();
            let mut got = Vec::new();
            parser.feed(&TWO[..cut], || false, |p| got.push(p)).unwrap();
            parser.feed(&TWO[cut..], || false, |p| got.push(p)).unwrap();
            assert_eq!(
                got,
                vec![
                    Parsed {
                        status: 200,
                        close: false
                    },
                    Parsed {
                        status: 404,
                        close: true
                    }
                ],
                "cut {cut}"
            );
            assert!(!parser.mid_response());
        }
    }

    /// A HEAD response has no body whatever its Content-Length says.
    #[test]
    fn head_has_no_body() {
        let mut parser = Parser::default();
        let mut count = 0;
        parser
            .feed(
                b"HTTP/1.1 200 OK\r\nContent-Length: 29\r\n\r\n",
                || true,
                |_| count += 1,
            )
            .unwrap();
        assert_eq!(count, 1);
        assert!(!parser.mid_response());
    }

    /// No Content-Length, a bad status line, a runaway head: all malformed.
    #[test]
    fn malformed() {
        for bad in [
            &b"HTTP/1.1 200 OK\r\n\r\n"[..],
            b"SSH-2.0-x\r\n\r\n",
            b"HTTP/1.1 2x0 OK\r\nContent-Length: 1\r\n\r\n",
        ] {
            assert_eq!(
                Parser::default().feed(bad, || false, |_| {}),
                Err(Malformed::Head),
                "{bad:?}"
            );
        }
        assert_eq!(
            Parser::default().feed(&[b'a'; MAX_HEAD + 1], || false, |_| {}),
            Err(Malformed::Head)
        );
    }
}
