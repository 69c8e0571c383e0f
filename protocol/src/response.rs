//! Writing responses: the status line and headers, and bodies that are
//! produced piece by piece as the socket accepts them.
//!
//! A body is never built whole: `/bytes/16777216` or a large file is made in
//! chunks of at most the free room in the connection's output buffer, so a
//! slow reader costs at most [`crate::limits::MAX_UNSENT`] bytes of memory.

use std::borrow::Cow;
use std::io;
use std::io::Write as _;

use crate::limits::MAX_UNSENT;
use crate::request::Version;

/// A response body still to be produced.
#[derive(Debug)]
pub(crate) enum Body {
    /// Bytes in memory (the embedded site, a short text), and how many are sent.
    Memory(Cow<'static, [u8]>, usize),
    /// The `/bytes` pattern: byte `i` is `b'a' + i % 26`; `next` and `end` count bytes.
    Pattern { next: u64, end: u64 },
    /// A file on disk, bytes `next..end`. The protocol reads no file: the
    /// model reads them when the connection asks (`Connection::file_wanted`)
    /// and hands them over (`Connection::file_read`).
    File { next: u64, end: u64 },
}

/// The smallest body piece lent from where it lives instead of copied: a
/// gathered send of a few bytes costs more than copying them.
pub(crate) const GATHER_MIN: usize = 4096;

/// The `/bytes` pattern, written out once: `a..z` over and over, one
/// alphabet longer than the most a body may add at once (`MAX_UNSENT`), so
/// that any chunk, starting at any phase, is one slice of it: one `memcpy`
/// instead of a loop of 26-byte pieces.
static PATTERN: [u8; MAX_UNSENT + 26] = pattern();

const fn pattern() -> [u8; MAX_UNSENT + 26] {
    let mut table = [0u8; MAX_UNSENT + 26];
    let mut i = 0;
    while i < table.len() {
        table[i] = b'a' + (i % 26) as u8;
        i += 1;
    }
    table
}

impl Body {
    pub(crate) fn text(text: String) -> Body {
        Body::Memory(text.into_bytes().into(), 0)
    }

    /// Bytes still to come.
    pub(crate) fn remaining(&self) -> u64 {
        match self {
            Body::Memory(bytes, sent) => (bytes.len() - sent) as u64,
            Body::Pattern { next, end } | Body::File { next, end } => end - next,
        }
    }

    /// Whether the body's bytes live as long as the program (an embedded
    /// file, the `/bytes` pattern) and are many enough to be worth sending
    /// from where they are rather than copied ([`GATHER_MIN`]).
    pub(crate) fn lendable(&self) -> bool {
        let fixed = matches!(
            self,
            Body::Memory(Cow::Borrowed(_), _) | Body::Pattern { .. }
        );
        fixed && self.remaining() >= GATHER_MIN as u64
    }

    /// The next at most `max` bytes of a body whose bytes live as long as
    /// the program, as they are (no copy). Empty for a body made or read
    /// into memory.
    pub(crate) fn lend(&mut self, max: usize) -> &'static [u8] {
        match self {
            Body::Memory(Cow::Borrowed(bytes), sent) => {
                let bytes: &'static [u8] = bytes;
                let piece = &bytes[*sent..][..max.min(bytes.len() - *sent)];
                *sent += piece.len();
                piece
            }
            Body::Pattern { next, end } => {
                let count = max.min(MAX_UNSENT).min((*end - *next) as usize);
                let phase = (*next % 26) as usize;
                *next += count as u64;
                &PATTERN[phase..phase + count]
            }
            Body::Memory(Cow::Owned(_), _) | Body::File { .. } => &[],
        }
    }

    /// Takes back the last `n` bytes lent: they did not go out, and are
    /// lent again next (nothing is copied: they are where they were).
    pub(crate) fn unlend(&mut self, n: usize) {
        match self {
            // Saturating: a body that replaced the lent one (a 408 fired
            // mid-body) has nothing lent; it is not taken below its start.
            Body::Memory(_, sent) => *sent = sent.saturating_sub(n),
            Body::Pattern { next, .. } | Body::File { next, .. } => {
                *next = next.saturating_sub(n as u64)
            }
        }
    }

    /// Appends at most `room` bytes of a body made here (memory, pattern) to
    /// `out`; true when the body is complete. A file's bytes are not made
    /// here: for [`Body::File`] this appends nothing and returns false.
    pub(crate) fn produce(&mut self, out: &mut Vec<u8>, room: usize) -> bool {
        match self {
            Body::Memory(bytes, sent) => {
                let chunk = &bytes[*sent..][..room.min(bytes.len() - *sent)];
                out.extend_from_slice(chunk);
                *sent += chunk.len();
                *sent == bytes.len()
            }
            Body::Pattern { next, end } => {
                // `room` is never more than MAX_UNSENT: one slice of the table.
                let count = room.min(MAX_UNSENT).min((*end - *next) as usize);
                let phase = (*next % 26) as usize;
                out.extend_from_slice(&PATTERN[phase..phase + count]);
                *next += count as u64;
                *next == *end
            }
            Body::File { .. } => false,
        }
    }
}

/// The headers of one response, before the body.
pub(crate) struct Head {
    /// Status code and reason phrase.
    pub status: (u16, &'static str),
    /// `Content-Type`.
    pub content_type: &'static str,
    /// `Content-Length`: the body's length, also for HEAD (which sends no body).
    pub content_length: u64,
    /// Whether the connection stays open after this response.
    pub keep_alive: bool,
    /// The request's version: an HTTP/1.0 keep-alive reply must say so.
    pub version: Version,
    /// A 405 carries `Allow: GET, HEAD`.
    pub allow: bool,
}

impl Head {
    /// Appends the status line and headers, ending with the blank line.
    ///
    /// There is no `Date` header: the protocol has no clock, and RFC 9110
    /// §6.6.1 says a server without one must not send it.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        let (code, reason) = self.status;
        // Writing to a Vec cannot fail.
        let _: io::Result<()> = write!(
            out,
            "HTTP/1.1 {code} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            self.content_type, self.content_length
        );
        if self.allow {
            out.extend_from_slice(b"Allow: GET, HEAD\r\n");
        }
        match (self.keep_alive, self.version) {
            (false, _) => out.extend_from_slice(b"Connection: close\r\n"),
            (true, Version::Http10) => out.extend_from_slice(b"Connection: keep-alive\r\n"),
            (true, Version::Http11) => {}
        }
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pattern is the same however it is chunked, and byte i is 'a' + i % 26.
    #[test]
    fn pattern_in_any_chunks() {
        for room in [
            1,
            5,
            26,
            27,
            100,
            4096,
            MAX_UNSENT - 1,
            MAX_UNSENT,
            MAX_UNSENT + 1,
        ] {
            let mut body = Body::Pattern {
                next: 0,
                end: 200_000,
            };
            let mut out = Vec::new();
            while !body.produce(&mut out, room) {}
            assert_eq!(out.len(), 200_000);
            assert!(
                out.iter()
                    .enumerate()
                    .all(|(i, &b)| b == b'a' + (i % 26) as u8)
            );
        }
    }

    /// An empty pattern is done at once.
    #[test]
    fn empty_pattern() {
        let mut out = Vec::new();
        let done = Body::Pattern { next: 0, end: 0 }.produce(&mut out, 10);
        assert_eq!((done, out.len()), (true, 0));
    }
}
