//! Writing responses: the status line and headers, and bodies that are
//! produced piece by piece as the socket accepts them.
//!
//! A body is never built whole: `/bytes/16777216` or a large file is made in
//! chunks of at most the free room in the connection's output buffer, so a
//! slow reader costs at most [`crate::limits::MAX_UNSENT`] bytes of memory.

use std::io::Write as _;
use std::io::{self, Read};

use crate::request::Version;
use crate::site::SiteFile;

/// A response body still to be produced.
#[derive(Debug)]
pub(crate) enum Body {
    /// Bytes in memory (the embedded site, a short text), and how many are sent.
    Memory(std::borrow::Cow<'static, [u8]>, usize),
    /// The `/bytes` pattern: byte `i` is `b'a' + i % 26`; `next` and `end` count bytes.
    Pattern { next: u64, end: u64 },
    /// A file on disk and how many bytes of it are still owed.
    File(std::fs::File, u64),
}

/// What happened when a body was asked for more bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Produced {
    /// There is more to come.
    More,
    /// The body is complete.
    Done,
    /// The body cannot be completed (a file shrank or failed to read): the
    /// promised `Content-Length` cannot be kept, so the connection must close.
    Broken,
}

const ALPHABET: &[u8; 26] = b"abcdefghijklmnopqrstuvwxyz";

impl Body {
    pub(crate) fn text(text: String) -> Body {
        Body::Memory(text.into_bytes().into(), 0)
    }

    pub(crate) fn file(file: SiteFile) -> Body {
        match file {
            SiteFile::Embedded(bytes) => Body::Memory(bytes.into(), 0),
            SiteFile::Disk(file, len) => Body::File(file, len),
        }
    }

    /// Appends at most `room` bytes of the body to `out`.
    pub(crate) fn produce(&mut self, out: &mut Vec<u8>, room: usize) -> Produced {
        match self {
            Body::Memory(bytes, sent) => {
                let chunk = &bytes[*sent..][..room.min(bytes.len() - *sent)];
                out.extend_from_slice(chunk);
                *sent += chunk.len();
                done_if(*sent == bytes.len())
            }
            Body::Pattern { next, end } => {
                let count = room.min((*end - *next) as usize);
                let mut written = 0;
                while written < count {
                    let phase = ((*next + written as u64) % 26) as usize;
                    let piece = &ALPHABET[phase..][..(26 - phase).min(count - written)];
                    out.extend_from_slice(piece);
                    written += piece.len();
                }
                *next += count as u64;
                done_if(*next == *end)
            }
            Body::File(file, remaining) => {
                let want = room.min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                let start = out.len();
                out.resize(start + want, 0);
                // A disk read is the one blocking call the event loops make:
                // regular files are always "ready" (see the protocol chapter).
                let read = file.read(&mut out[start..]);
                let n = match read {
                    Ok(n) if n > 0 || want == 0 => n,
                    _ => {
                        out.truncate(start);
                        return Produced::Broken;
                    }
                };
                out.truncate(start + n);
                *remaining -= n as u64;
                done_if(*remaining == 0)
            }
        }
    }
}

fn done_if(done: bool) -> Produced {
    if done { Produced::Done } else { Produced::More }
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
        for room in [1, 5, 26, 27, 100, 4096] {
            let mut body = Body::Pattern { next: 0, end: 1000 };
            let mut out = Vec::new();
            while body.produce(&mut out, room) == Produced::More {}
            assert_eq!(out.len(), 1000);
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
        let produced = Body::Pattern { next: 0, end: 0 }.produce(&mut out, 10);
        assert_eq!((produced, out.len()), (Produced::Done, 0));
    }
}
