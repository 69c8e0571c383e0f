//! Every row of docs/src/contract.md §3's bad-input table, and path traversal: a clear status,
//! the connection closed, and a fresh connection still served.

use std::time::{Duration, Instant};

use crate::cases::http::{SECRET, make_site};
use crate::client::{Client, check};
use crate::{Case, Outcome, Target};

/// One bad-input row: the bytes sent and the status expected.
struct Row {
    name: &'static str,
    request: fn() -> Vec<u8>,
    status: u16,
}

const ROWS: &[Row] = &[
    Row {
        name: "bad_request_line_400",
        request: || b"GET /\r\n\r\n".to_vec(),
        status: 400,
    },
    Row {
        name: "bad_header_400",
        request: || b"GET / HTTP/1.1\r\nno colon\r\n\r\n".to_vec(),
        status: 400,
    },
    Row {
        name: "bare_lf_tolerated_404",
        request: || b"GET /nope HTTP/1.1\n\n".to_vec(),
        status: 404,
    },
    Row {
        name: "method_405",
        request: || b"DELETE / HTTP/1.1\r\n\r\n".to_vec(),
        status: 405,
    },
    Row {
        name: "content_length_413",
        request: || b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello".to_vec(),
        status: 413,
    },
    Row {
        name: "transfer_encoding_413",
        request: || b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(),
        status: 413,
    },
    Row {
        name: "head_over_8k_431",
        request: || format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(9000)).into_bytes(),
        status: 431,
    },
    Row {
        name: "version_505",
        request: || b"GET / HTTP/1.2\r\n\r\n".to_vec(),
        status: 505,
    },
    Row {
        name: "http2_preface_505",
        request: || b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
        status: 505,
    },
    Row {
        name: "missing_file_404",
        request: || b"GET /no-such-file.txt HTTP/1.1\r\n\r\n".to_vec(),
        status: 404,
    },
    Row {
        name: "out_of_range_404",
        request: || b"GET /bytes/16777217 HTTP/1.1\r\n\r\n".to_vec(),
        status: 404,
    },
];

/// Paths that try to leave the root; each must get 404 (or 400 for a broken
/// escape) and never a byte of the secret.
const TRAVERSALS: &[&str] = &[
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/..%2fsecret.txt",
    "/.%2e/secret.txt",
    "/sub/../../secret.txt",
    "/sub/%2e%2e/%2e%2e/secret.txt",
    "/escape.txt",
    "/up/secret.txt",
    "//secret.txt",
    "/..%5csecret.txt",
    "/%2fsecret.txt",
    "/secret.txt%00",
    "/./../secret.txt",
];

pub fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = ROWS
        .iter()
        .map(|row| {
            Case::new(
                row.name,
                "Bad input gets its status, a one-line text, then the connection closes; a new one is served.",
                move |target: &Target| bad_input(target, row),
            )
        })
        .collect();
    cases.push(Case::new(
        "slowloris_408",
        "A head trickled one byte a second gets 408 and a close 10 s after its first byte; another client is served meanwhile (a model with one place serves it right after).",
        slowloris_408,
    ));
    cases.push(Case::new(
        "traversal",
        "No spelling of `..`, encoded separator or symlink reads a byte from outside the root.",
        traversal,
    ));
    cases
}

fn bad_input(target: &Target, row: &Row) -> Outcome {
    let server = target.start(&[])?;
    let mut client = Client::connect(server.addr)?;
    client.send((row.request)())?;
    let response = client.response()?;
    check(response.status == row.status, || {
        format!("status {} not {}", response.status, row.status)
    })?;
    expect_closing(&response)?;
    if row.status == 405 {
        check(response.header("allow") == Some("GET, HEAD"), || {
            format!("{:?}", response.headers)
        })?;
    }
    client.expect_closed()?;
    fresh_connection_works(&server)?;
    server.finish()
}

/// A rejection says `Connection: close` and has a one-line body starting with its code.
fn expect_closing(response: &crate::client::Response) -> Outcome {
    check(response.header("connection") == Some("close"), || {
        format!("{:?}", response.headers)
    })?;
    let text = response.text();
    check(
        text.starts_with(&response.status.to_string())
            && text.ends_with('\n')
            && text.lines().count() == 1,
        || format!("body is not one line starting with the status: {text:?}"),
    )
}

fn fresh_connection_works(server: &crate::server::Running) -> Outcome {
    let response = Client::connect(server.addr)?.get("/numbers.txt")?;
    check(response.status == 200, || {
        format!("a fresh connection got {}", response.status)
    })
}

fn slowloris_408(target: &Target) -> Outcome {
    let server = target.start(&[])?;
    let mut client = Client::connect(server.addr)?;
    let start = Instant::now();
    // One byte a second: never idle, never complete.
    let head = b"GET /numbers.txt HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut waiting = None;
    for (i, byte) in head.iter().enumerate() {
        if client.send([*byte]).is_err() {
            break; // the server closed on us: read what it said
        }
        if i == 3 {
            // Meanwhile, another client is served (or, in a model with one
            // place, waits for the slow one to be thrown out).
            waiting = super::hostile::other_client(&server, target, 1)?;
        }
        let early = client.read_within(Duration::from_millis(1000))?;
        if !early.is_empty() {
            let text = String::from_utf8_lossy(&early);
            check(text.starts_with("HTTP/1.1 408"), || format!("got {text:?}"))?;
            let elapsed = start.elapsed();
            check(elapsed >= Duration::from_secs(10), || {
                format!("408 after only {elapsed:?}")
            })?;
            check(elapsed < Duration::from_secs(13), || {
                format!("408 only after {elapsed:?}")
            })?;
            if let Some(mut waiting) = waiting {
                let response = waiting.response()?;
                check(response.status == 200, || {
                    format!("the client that waited got {}", response.status)
                })?;
            }
            fresh_connection_works(&server)?;
            return server.finish();
        }
        check(start.elapsed() < Duration::from_secs(13), || {
            "no 408 within 13 s".into()
        })?;
    }
    Err("no 408 before the slow head ran out".into())
}

fn traversal(target: &Target) -> Outcome {
    let site = make_site()?;
    let root = site.path().join("root");
    let server = target.start(&["--root", root.to_str().unwrap_or_default()])?;
    for path in TRAVERSALS {
        let mut client = Client::connect(server.addr)?;
        client.send(format!("GET {path} HTTP/1.1\r\n\r\n"))?;
        let response = client.response()?;
        check(matches!(response.status, 400 | 404), || {
            format!("{path}: status {}", response.status)
        })?;
        check(!response.text().contains(SECRET), || {
            format!("{path}: leaked the secret")
        })?;
        let rest = client.read_to_end().unwrap_or_default();
        check(!String::from_utf8_lossy(&rest).contains(SECRET), || {
            format!("{path}: leaked")
        })?;
    }
    let response = Client::connect(server.addr)?.get("/a.txt")?;
    check(response.status == 200, || {
        "the root itself is still served".into()
    })?;
    server.finish()
}
