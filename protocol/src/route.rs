//! From a request target to what answers it: a file, or one of the three
//! teaching routes `/delay/<ms>`, `/bytes/<n>` and `/cpu/<us>`.

use crate::error::Rejection;
use crate::limits::{MAX_BYTES, MAX_CPU_US, MAX_DELAY_MS};
use crate::site::{Site, SiteFile, content_type};

/// What a request target resolves to.
#[derive(Debug)]
pub enum Route {
    /// A file of the site and its content type.
    File(SiteFile, &'static str),
    /// `/delay/<ms>`: answer after that many milliseconds.
    Delay(u64),
    /// `/bytes/<n>`: n bytes of the repeating pattern.
    Bytes(u64),
    /// `/cpu/<us>`: burn that many microseconds of CPU, then answer.
    Cpu(u64),
}

/// Resolves a request target (`/path?query`) against the routes and the site.
///
/// The query is ignored. Each path segment is percent-decoded on its own, so
/// an encoded `/` (`%2F`) stays inside its segment and is refused by
/// [`Site::find`] rather than splitting the path. A broken escape is a 400;
/// everything else that does not resolve is a 404.
pub fn route(target: &str, site: &Site) -> Result<Route, Rejection> {
    let path = target.split('?').next().unwrap_or_default();
    let segments = path
        .split('/')
        .skip(1) // the target starts with '/', checked by the parser
        .map(percent_decode)
        .collect::<Option<Vec<_>>>()
        .ok_or(Rejection::BadRequest("malformed percent-encoding"))?;

    if let [route, number] = segments.as_slice() {
        let number = || parse_number(number).ok_or(Rejection::NotFound);
        match route.as_slice() {
            b"delay" => return in_range(number()?, MAX_DELAY_MS).map(Route::Delay),
            b"bytes" => return in_range(number()?, MAX_BYTES).map(Route::Bytes),
            b"cpu" => return in_range(number()?, MAX_CPU_US).map(Route::Cpu),
            _ => {}
        }
    }
    let file = site.find(&segments)?;
    let name = match segments.last() {
        Some(last) if !last.is_empty() => last.as_slice(),
        _ => b"index.html",
    };
    Ok(Route::File(file, content_type(name)))
}

fn in_range(n: u64, max: u64) -> Result<u64, Rejection> {
    if n <= max {
        Ok(n)
    } else {
        Err(Rejection::NotFound)
    }
}

/// Plain decimal digits only: no sign, no spaces; too large for u64 is `None`.
fn parse_number(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Decodes `%XX` escapes; `None` for a `%` not followed by two hex digits.
fn percent_decode(segment: &str) -> Option<Vec<u8>> {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    Some(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(target: &str) -> Result<&'static str, u16> {
        match route(target, &Site::Embedded) {
            Ok(Route::File(_, content_type)) => Ok(content_type),
            Ok(Route::Delay(_)) => Ok("delay"),
            Ok(Route::Bytes(_)) => Ok("bytes"),
            Ok(Route::Cpu(_)) => Ok("cpu"),
            Err(rejection) => Err(rejection.status().0),
        }
    }

    /// Every route and its edges: the largest number in range, one past it,
    /// non-digits, overflow.
    #[test]
    fn routes_and_ranges() {
        let cases: &[(&str, Result<&str, u16>)] = &[
            ("/", Ok("text/html")),
            ("/?x=1", Ok("text/html")),
            ("/numbers.txt", Ok("text/plain")),
            ("/style.css", Ok("text/css")),
            ("/delay/0", Ok("delay")),
            ("/delay/60000", Ok("delay")),
            ("/delay/60001", Err(404)),
            ("/delay/", Err(404)),
            ("/delay/-1", Err(404)),
            ("/delay/+1", Err(404)),
            ("/delay/1x", Err(404)),
            ("/delay/99999999999999999999999", Err(404)),
            ("/bytes/16777216", Ok("bytes")),
            ("/bytes/16777217", Err(404)),
            ("/cpu/1000000", Ok("cpu")),
            ("/cpu/1000001", Err(404)),
            ("/cpu/1/2", Err(404)),
            ("/missing", Err(404)),
        ];
        for (target, expected) in cases {
            assert_eq!(status(target), *expected, "{target}");
        }
    }

    /// Every way of spelling "up a level" or an encoded separator is refused.
    #[test]
    fn traversal_is_not_found() {
        for target in [
            "/../numbers.txt",
            "/%2e%2e/numbers.txt",
            "/%2E%2E%2Fnumbers.txt",
            "/..%2fnumbers.txt",
            "/.%2e/numbers.txt",
            "/a/../numbers.txt",
            "/./numbers.txt",
            "//numbers.txt",
            "/numbers.txt%00",
            "/..%5cnumbers.txt",
            "/%2fnumbers.txt",
        ] {
            assert_eq!(status(target), Err(404), "{target}");
        }
    }

    /// A broken escape is malformed input, 400.
    #[test]
    fn broken_escapes_are_bad_requests() {
        for target in ["/%", "/%2", "/%zz", "/a%g0"] {
            assert_eq!(status(target), Err(400), "{target}");
        }
        assert_eq!(percent_decode("a%41%62").unwrap(), b"aAb");
    }
}
