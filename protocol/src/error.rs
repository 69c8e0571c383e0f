//! Why a request was refused: the one error type of the protocol.

use std::fmt;

/// A request the server refuses. Each variant is one row of the bad-input
/// table in docs/src/contract.md §3; [`Rejection::status`] gives its status code. After a
/// rejection is answered the connection closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// 400: the request line or a header is malformed; the text says which.
    BadRequest(&'static str),
    /// 404: no such file or route, a path leaving the root, or a number out of range.
    NotFound,
    /// 405: a method other than GET and HEAD.
    MethodNotAllowed,
    /// 408: no complete request head within [`crate::limits::HEAD_TIMEOUT`].
    RequestTimeout,
    /// 413: the request carries a body (`Content-Length` > 0 or `Transfer-Encoding`).
    ContentTooLarge,
    /// 431: the request head is longer than [`crate::limits::MAX_HEAD`].
    HeadTooLarge,
    /// 505: an HTTP version other than 1.0 and 1.1 (HTTP/2's preface too).
    VersionNotSupported,
    /// 503: the server is at its connection limit (`--max-conns`, or an fd
    /// its wait call cannot watch, like `select`'s FD_SETSIZE). Sent as soon
    /// as the connection is accepted, before any request is read.
    ServiceUnavailable,
    /// 503 as well: the file is there, but the process has no file
    /// descriptor left to open it with (EMFILE, or ENFILE for the whole
    /// system). A condition that passes, not a missing file: never a 404.
    OutOfFiles,
}

impl Rejection {
    /// The status code and reason phrase this rejection is answered with.
    pub fn status(self) -> (u16, &'static str) {
        match self {
            Rejection::BadRequest(_) => (400, "Bad Request"),
            Rejection::NotFound => (404, "Not Found"),
            Rejection::MethodNotAllowed => (405, "Method Not Allowed"),
            Rejection::RequestTimeout => (408, "Request Timeout"),
            Rejection::ContentTooLarge => (413, "Content Too Large"),
            Rejection::HeadTooLarge => (431, "Request Header Fields Too Large"),
            Rejection::VersionNotSupported => (505, "HTTP Version Not Supported"),
            Rejection::ServiceUnavailable | Rejection::OutOfFiles => (503, "Service Unavailable"),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (code, reason) = self.status();
        match self {
            Rejection::BadRequest(why) => write!(f, "{code} {reason}: {why}"),
            Rejection::NotFound => write!(f, "{code} {reason}: no such file or route"),
            Rejection::MethodNotAllowed => write!(f, "{code} {reason}: only GET and HEAD"),
            Rejection::RequestTimeout => {
                write!(f, "{code} {reason}: request head not complete in time")
            }
            Rejection::ContentTooLarge => write!(f, "{code} {reason}: requests carry no body"),
            Rejection::HeadTooLarge => write!(f, "{code} {reason}: request head over 8 KiB"),
            Rejection::VersionNotSupported => {
                write!(f, "{code} {reason}: only HTTP/1.0 and HTTP/1.1")
            }
            Rejection::ServiceUnavailable => {
                write!(f, "{code} {reason}: too many connections, try again later")
            }
            Rejection::OutOfFiles => {
                write!(
                    f,
                    "{code} {reason}: out of file descriptors, try again later"
                )
            }
        }
    }
}

impl std::error::Error for Rejection {}
