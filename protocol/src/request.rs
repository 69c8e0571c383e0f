//! Finding and parsing one request head: the request line and the headers.
//!
//! Two steps, both pure functions of bytes:
//! 1. [`find_head_end`] looks for the blank line that ends a head. It is
//!    resumable (`from` says where the last scan stopped), so a head fed one
//!    byte at a time costs linear time, not quadratic. Until it finds the end
//!    the answer is "need more", never an error (httparse's `Status::Partial`).
//! 2. [`parse_head`] parses a complete head into a [`Request`] or a
//!    [`Rejection`].
//!
//! Guarantee: `parse_head` never panics, whatever the bytes (a property test
//! feeds it arbitrary input), and it accepts `\r\n` and bare `\n` line ends
//! alike (docs/src/contract.md §3: "bare LF tolerated").

use crate::error::Rejection;

/// GET or HEAD: the only methods the servers implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Send the status, the headers and the body.
    Get,
    /// Send the status and the headers that GET would send, and no body.
    Head,
}

/// The two HTTP versions spoken here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// HTTP/1.0: closes after each response unless asked to keep alive.
    Http10,
    /// HTTP/1.1: keeps the connection alive unless asked to close.
    Http11,
}

/// A parsed request head, reduced to what the router and the keep-alive rule need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// GET or HEAD.
    pub method: Method,
    /// The request target as sent (still percent-encoded, query included);
    /// the router decodes it.
    pub target: String,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// Whether the connection stays open after the response, from the version
    /// and the `Connection` header (docs/src/contract.md §3, "Keep-alive").
    pub keep_alive: bool,
}

/// Where the head that starts at `buf[0]` ends: `Some(n)` when `buf[..n]` is a
/// complete head (its blank line included), `None` when more bytes are needed.
///
/// `from` is how much of `buf` an earlier call already scanned; passing it back
/// makes the scan resumable.
pub fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    // The blank line is "\n\n" or "\n\r\n": look at each '\n' and the bytes
    // before it. Back up two bytes so a terminator split across calls is found.
    let start = from.saturating_sub(2);
    for i in start..buf.len() {
        if buf[i] != b'\n' || i == 0 {
            continue;
        }
        if buf[i - 1] == b'\n' || (i >= 2 && buf[i - 1] == b'\r' && buf[i - 2] == b'\n') {
            return Some(i + 1);
        }
    }
    None
}

/// Parses a complete head (as delimited by [`find_head_end`]).
///
/// The checks run in this order, so that each bad input gets one well-defined
/// status: request line shape (400), version (505), method and target syntax
/// (400), header syntax (400), method support (405), request body (413).
pub fn parse_head(head: &[u8]) -> Result<Request, Rejection> {
    let mut lines = head.split(|&b| b == b'\n').map(strip_cr);
    let request_line = lines.next().unwrap_or_default();

    let mut parts = request_line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::BadRequest("malformed request line"));
    };
    let version = parse_version(version)?;
    if method.is_empty() || !method.iter().all(|&b| is_token(b)) {
        return Err(Rejection::BadRequest("malformed method"));
    }
    if target.first() != Some(&b'/') || !target.iter().all(|&b| b.is_ascii_graphic()) {
        return Err(Rejection::BadRequest("malformed request target"));
    }

    let mut close = false;
    let mut keep_alive = false;
    let mut has_body = false;
    for line in lines {
        if line.is_empty() {
            continue; // the blank line that ends the head
        }
        let (name, value) = parse_header(line)?;
        if name.eq_ignore_ascii_case(b"connection") {
            for option in value.split(|&b| b == b',').map(trim) {
                close |= option.eq_ignore_ascii_case(b"close");
                keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let digits = value.iter().all(u8::is_ascii_digit) && !value.is_empty();
            if !digits {
                return Err(Rejection::BadRequest("malformed Content-Length"));
            }
            has_body |= value.iter().any(|&b| b != b'0');
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            has_body = true;
        }
    }

    let method = match method {
        b"GET" => Method::Get,
        b"HEAD" => Method::Head,
        _ => return Err(Rejection::MethodNotAllowed),
    };
    if has_body {
        return Err(Rejection::ContentTooLarge);
    }
    let keep_alive = match version {
        Version::Http11 => !close,
        Version::Http10 => keep_alive && !close,
    };
    Ok(Request {
        method,
        // The target is ASCII-graphic, checked above, so this never loses a byte.
        target: String::from_utf8_lossy(target).into_owned(),
        version,
        keep_alive,
    })
}

/// `HTTP/1.0` and `HTTP/1.1` are spoken; any other well-formed `HTTP/d.d`
/// (HTTP/2's preface `PRI * HTTP/2.0` among them) is a version we refuse with
/// 505; anything else is not HTTP at all, 400.
fn parse_version(version: &[u8]) -> Result<Version, Rejection> {
    match version {
        b"HTTP/1.1" => Ok(Version::Http11),
        b"HTTP/1.0" => Ok(Version::Http10),
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Err(Rejection::VersionNotSupported)
        }
        _ => Err(Rejection::BadRequest("malformed HTTP version")),
    }
}

/// `name: value`, with optional white space around the value. A line that
/// starts with white space (obsolete line folding) is refused, as RFC 9112 allows.
fn parse_header(line: &[u8]) -> Result<(&[u8], &[u8]), Rejection> {
    let colon = line.iter().position(|&b| b == b':');
    let Some(colon) = colon else {
        return Err(Rejection::BadRequest("malformed header line"));
    };
    let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
    if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
        return Err(Rejection::BadRequest("malformed header name"));
    }
    if value.iter().any(|&b| b.is_ascii_control() && b != b'\t') {
        return Err(Rejection::BadRequest("control character in header value"));
    }
    Ok((name, value))
}

/// RFC 9110 `tchar`: the characters allowed in methods and header names.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The blank line is found with CRLF, bare LF and a mix of both, and only then.
    #[test]
    fn head_end_with_crlf_and_bare_lf() {
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n\r\n", 0), Some(18));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\n\n", 0), Some(16));
        assert_eq!(
            find_head_end(b"GET / HTTP/1.1\r\nA: b\n\r\nxyz", 0),
            Some(23)
        );
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nA: b\r\n", 0), None);
        assert_eq!(find_head_end(b"", 0), None);
    }

    /// Resuming a scan finds the same end as scanning everything at once.
    #[test]
    fn head_end_resumes() {
        let head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        for cut in 0..head.len() {
            let first = find_head_end(&head[..cut], 0);
            assert_eq!(first, None, "cut {cut}");
            assert_eq!(find_head_end(head, cut), Some(head.len()), "cut {cut}");
        }
    }

    /// The keep-alive rule of docs/src/contract.md §3 for both versions.
    #[test]
    fn keep_alive_rules() {
        let cases: &[(&[u8], bool)] = &[
            (b"GET / HTTP/1.1\r\n\r\n", true),
            (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false),
            (
                b"GET / HTTP/1.1\r\nConnection: Keep-Alive, Close\r\n\r\n",
                false,
            ),
            (b"GET / HTTP/1.0\r\n\r\n", false),
            (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
            (
                b"GET / HTTP/1.0\r\nconnection:   Keep-Alive  \r\n\r\n",
                true,
            ),
        ];
        for (head, keep_alive) in cases {
            let request = parse_head(head).unwrap();
            assert_eq!(
                request.keep_alive,
                *keep_alive,
                "{}",
                String::from_utf8_lossy(head)
            );
        }
    }

    /// Each malformed head gets the status the table in docs/src/contract.md §3 gives it.
    #[test]
    fn rejections() {
        let cases: &[(&[u8], u16)] = &[
            (b"GET /\r\n\r\n", 400),
            (b"GET  / HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/1.1 x\r\n\r\n", 400),
            (b"GET / FTP/1.1\r\n\r\n", 400),
            (b"GET http://x/ HTTP/1.1\r\n\r\n", 400),
            (b"G(T / HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\n folded: x\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nContent-Length: x1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\n\r\n", 405),
            (b"DELETE / HTTP/1.0\r\n\r\n", 405),
            (b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", 413),
            (b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 413),
            (b"GET / HTTP/2.0\r\n\r\n", 505),
            (b"PRI * HTTP/2.0\r\n\r\n", 505),
            (b"GET / HTTP/1.2\r\n\r\n", 505),
        ];
        for (head, status) in cases {
            let got = parse_head(head).map_err(|r| r.status().0);
            assert_eq!(got, Err(*status), "{}", String::from_utf8_lossy(head));
        }
    }

    /// `Content-Length: 0` is no body, so the request is fine.
    #[test]
    fn zero_content_length_is_no_body() {
        let request = parse_head(b"GET / HTTP/1.1\r\nContent-Length: 000\r\n\r\n").unwrap();
        assert_eq!(request.method, Method::Get);
    }
}
