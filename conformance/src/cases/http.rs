//! The routes, HEAD, keep-alive in both versions, pipelining, byte-at-a-time
//! input, and a private `--root` site.

use std::time::{Duration, Instant};

use crate::client::{Client, check, read_some};
use crate::{Case, Outcome, Target};

const NUMBERS: &str = "zero\none\ntwo\nthree\nfour\nfive\n";

pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "get_index",
            "GET / serves the default site's index.html as text/html.",
            get_index,
        ),
        Case::new(
            "get_numbers",
            "GET /numbers.txt serves the six lines with type and length.",
            get_numbers,
        ),
        Case::new(
            "root_site",
            "--root serves a directory, with Content-Type by extension.",
            root_site,
        ),
        Case::new(
            "file_changes_while_sent",
            "A --root file removed while it is sent still arrives whole; one that grows arrives as long as it was when asked for, and the connection goes on; one cut short ends the connection after a true prefix, and the server serves on.",
            file_changes_while_sent,
        ),
        Case::new(
            "route_delay",
            "/delay/<ms> answers its body, never before ms have passed.",
            route_delay,
        ),
        Case::new(
            "route_bytes",
            "/bytes/<n> sends n bytes of the a..z pattern, 0 and 1 MiB included.",
            route_bytes,
        ),
        Case::new(
            "route_cpu",
            "/cpu/<us> answers `cpu <us> us` after doing the work.",
            route_cpu,
        ),
        Case::new(
            "head_requests",
            "HEAD gets GET's status and headers and no body, on every route.",
            head_requests,
        ),
        Case::new(
            "keepalive_http11",
            "HTTP/1.1 keeps the connection until `Connection: close`.",
            keepalive_http11,
        ),
        Case::new(
            "keepalive_http10",
            "HTTP/1.0 closes unless asked to keep alive, and then says so.",
            keepalive_http10,
        ),
        Case::new(
            "pipelined_100",
            "100 requests in one write get 100 answers, in order.",
            pipelined_100,
        ),
        Case::new(
            "one_byte_at_a_time",
            "A request trickled one byte per write gets the same answer.",
            one_byte_at_a_time,
        ),
    ]
}

fn get_index(target: &Target) -> Outcome {
    let server = target.start(&[])?;
    let response = Client::connect(server.addr)?.get("/")?;
    check(response.status == 200, || {
        format!("status {}", response.status)
    })?;
    check(response.header("content-type") == Some("text/html"), || {
        format!("{:?}", response.headers)
    })?;
    check(response.text().contains("<html"), || {
        "index.html is not HTML".into()
    })?;
    server.finish()
}

fn get_numbers(target: &Target) -> Outcome {
    let server = target.start(&[])?;
    let response = Client::connect(server.addr)?.get("/numbers.txt")?;
    check(response.status == 200, || {
        format!("status {}", response.status)
    })?;
    check(
        response.header("content-type") == Some("text/plain"),
        || format!("{:?}", response.headers),
    )?;
    check(response.header("content-length") == Some("29"), || {
        format!("{:?}", response.headers)
    })?;
    check(response.text() == NUMBERS, || {
        format!("body {:?}", response.text())
    })?;
    server.finish()
}

/// A private site: index.html, a.txt, b.css, c.bin, sub/index.html, and a
/// `secret.txt` beside (outside) the root, reachable only by escaping.
pub fn make_site() -> Result<tempfile::TempDir, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let root = dir.path().join("root");
    let write = |path: std::path::PathBuf, text: &str| {
        std::fs::write(path, text).map_err(|e| e.to_string())
    };
    std::fs::create_dir_all(root.join("sub")).map_err(|e| e.to_string())?;
    write(root.join("index.html"), "<html>private index</html>")?;
    write(root.join("a.txt"), "text file\n")?;
    write(root.join("b.css"), "p {}\n")?;
    write(root.join("c.bin"), "\u{1}\u{2}")?;
    write(root.join("sub/index.html"), "<p>sub index</p>")?;
    write(dir.path().join("secret.txt"), SECRET)?;
    let link = |from: &std::path::Path, to: std::path::PathBuf| {
        std::os::unix::fs::symlink(from, to).map_err(|e| e.to_string())
    };
    link(&dir.path().join("secret.txt"), root.join("escape.txt"))?;
    link(dir.path(), root.join("up"))?;
    link(&root.join("a.txt"), root.join("inside.txt"))?;
    Ok(dir)
}

/// The content of the file outside the root: it must never appear in a response.
pub const SECRET: &str = "SECRET-OUTSIDE-THE-ROOT";

fn root_site(target: &Target) -> Outcome {
    let site = make_site()?;
    let root = site.path().join("root");
    let server = target.start(&["--root", root.to_str().unwrap_or_default()])?;
    let mut client = Client::connect(server.addr)?;
    for (path, content_type, body) in [
        ("/", "text/html", "<html>private index</html>"),
        ("/a.txt", "text/plain", "text file\n"),
        ("/b.css", "text/css", "p {}\n"),
        ("/c.bin", "application/octet-stream", "\u{1}\u{2}"),
        ("/sub/", "text/html", "<p>sub index</p>"),
        ("/inside.txt", "text/plain", "text file\n"),
    ] {
        let response = client.get(path)?;
        check(response.status == 200, || {
            format!("{path}: status {}", response.status)
        })?;
        check(
            response.header("content-type") == Some(content_type),
            || format!("{path}: {:?}", response.header("content-type")),
        )?;
        check(response.text() == body, || {
            format!("{path}: body {:?}", response.text())
        })?;
    }
    server.finish()
}

/// How a file changes under the server while it is sent.
#[derive(Debug, Clone, Copy)]
enum Change {
    Removed,
    Grows,
    CutShort,
}

fn file_changes_while_sent(target: &Target) -> Outcome {
    // Larger than anything the socket buffers and the server's output can
    // hold, so most of the file is still to be read when it changes.
    const SIZE: usize = 32 * 1024 * 1024;
    let site = make_site()?;
    let root = site.path().join("root");
    let content: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
    let server = target.start(&["--root", root.to_str().unwrap_or_default()])?;
    for change in [Change::Removed, Change::Grows, Change::CutShort] {
        let path = root.join("big.bin");
        std::fs::write(&path, &content).map_err(|e| e.to_string())?;
        let mut client = Client::connect(server.addr)?;
        client.send("GET /big.bin HTTP/1.1\r\nHost: test\r\n\r\n")?;
        // The head and the first bytes: the server is now sending.
        let mut received = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        while received.len() < 64 * 1024 {
            let n = read_some(client.stream(), &mut buf).map_err(|e| e.to_string())?;
            check(n > 0, || {
                format!("{change:?}: EOF after {} bytes", received.len())
            })?;
            received.extend_from_slice(&buf[..n]);
        }
        let head_end = received
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| i + 4)
            .ok_or_else(|| format!("{change:?}: no head in the first 64 KiB"))?;
        let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
        check(
            head.contains(&format!("Content-Length: {SIZE}\r\n")),
            || format!("{change:?}: {head:?}"),
        )?;
        let mut body = received.split_off(head_end);
        let io = |e: std::io::Error| format!("{change:?}: {e}");
        match change {
            Change::Removed => std::fs::remove_file(&path).map_err(io)?,
            Change::Grows => {
                let mut file = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .map_err(io)?;
                std::io::Write::write_all(&mut file, &content).map_err(io)?;
            }
            Change::CutShort => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(io)?;
                file.set_len(0).map_err(io)?;
            }
        }
        // The rest: up to the announced length, or the end of the connection.
        while body.len() < SIZE {
            match read_some(client.stream(), &mut buf) {
                Ok(0) => break,
                Ok(n) => body.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(e) => return Err(format!("{change:?}: after {} body bytes: {e}", body.len())),
            }
        }
        check(body.len() <= SIZE, || {
            format!("{change:?}: {} body bytes", body.len())
        })?;
        let wrong = body.iter().zip(&content).position(|(a, b)| a != b);
        check(wrong.is_none(), || {
            format!("{change:?}: wrong byte at {wrong:?}")
        })?;
        match change {
            Change::Removed | Change::Grows => {
                check(body.len() == SIZE, || {
                    format!("{change:?}: {} of {SIZE} body bytes", body.len())
                })?;
                let response = client.get("/a.txt")?;
                check(response.status == 200, || {
                    format!("{change:?}: the next request got {}", response.status)
                })?;
            }
            Change::CutShort => {
                check(body.len() < SIZE, || {
                    format!("{change:?}: all {SIZE} bytes of a file cut to none")
                })?;
                let ended = read_some(client.stream(), &mut buf);
                check(matches!(ended, Ok(0)) || ended.is_err(), || {
                    format!("{change:?}: the connection went on: {ended:?}")
                })?;
            }
        }
        drop(client);
    }
    let response = Client::connect(server.addr)?.get("/a.txt")?;
    check(response.status == 200, || {
        format!("after the changes: {}", response.status)
    })?;
    server.finish()
}

fn route_delay(target: &Target) -> Outcome {
    let server = target.start(&[])?;
    let mut client = Client::connect(server.addr)?;
    let start = Instant::now();
    let response = client.get("/delay/300")?;
    let elapsed = start.elapsed();
    check(response.text() == "delayed 300 ms\n", || {
        format!("body {:?}", response.text())
    })?;
    check(elapsed >= Duration::from_millis(300), || {
        format!("answered early, after {elapsed:?}")
    })?;
    let response = client.get("/delay/0")?;
    check(response.text() == "delayed 0 ms\n", || {
        format!("body {:?}", response.text())
    })?;
    server.finish()
}

/// Byte `i` of a `/bytes/<n>` body: `a` to `z`, again and again.
pub(super) fn pattern_byte(i: usize) -> u8 {
    b'a' + (i % 26) as u8
}

fn route_bytes(target: &Target) -> Outcome {
    let server = target.start(&[])?;
    let mut client = Client::connect(server.addr)?;
    for n in [0usize, 1, 26, 27, 1 << 20] {
        let response = client.get(&format!("/bytes/{n}"))?;
        check(
            response.header("content-type") == Some("application/octet-stream"),
            || format!("{:?}", response.headers),
        )?;
        check(response.body.len() == n, || {
            format!("/bytes/{n}: {} bytes", response.body.len())
        })?;
        let wrong = response
            .body
            .iter()
            .enumerate()
            .position(|(i, &b)| b != pattern_byte(i));
        check(wrong.is_none(), || {
            format!("/bytes/{n}: wrong byte at {wrong:?}")
        })?;
    }
    server.finish()
}

fn route_cpu(target: &Target) -> Outcome {
    let server = target.start(&[])?;
    let mut client = Client::connect(server.addr)?;
    let start = Instant::now();
    let response = client.get("/cpu/20000")?;
    check(response.text() == "cpu 20000 us\n", || {
        format!("body {:?}", response.text())
    })?;
    // CPU time never runs faster than the wall clock.
    let elapsed = start.elapsed();
    check(elapsed >= Duration::from_millis(20), || {
        format!("20 ms of CPU took {elapsed:?}")
    })?;
    server.finish()
}

fn head_requests(target: &Target) -> Outcome {
    let server = target.start(&[])?;
    let mut client = Client::connect(server.addr)?;
    for path in ["/", "/numbers.txt", "/delay/10", "/bytes/1000", "/cpu/10"] {
        let get = client.get(path)?;
        client.send(format!("HEAD {path} HTTP/1.1\r\n\r\n"))?;
        let head = client.head_response()?;
        check(head.status == get.status, || {
            format!("{path}: {} vs {}", head.status, get.status)
        })?;
        check(head.headers == get.headers, || {
            format!("{path}: {:?} vs {:?}", head.headers, get.headers)
        })?;
    }
    // Had any HEAD sent a body, this response would start with its bytes.
    let after = client.get("/numbers.txt")?;
    check(after.text() == NUMBERS, || {
        "a HEAD response carried a body".into()
    })?;
    server.finish()
}

fn keepalive_http11(target: &Target) -> Outcome {
    let server = target.start(&[])?;
    let mut client = Client::connect(server.addr)?;
    for _ in 0..3 {
        let response = client.get("/numbers.txt")?;
        check(response.header("connection").is_none(), || {
            format!("{:?}", response.headers)
        })?;
    }
    client.send("GET /numbers.txt HTTP/1.1\r\nConnection: close\r\n\r\n")?;
    let response = client.response()?;
    check(response.header("connection") == Some("close"), || {
        format!("{:?}", response.headers)
    })?;
    client.expect_closed()?;
    server.finish()
}

fn keepalive_http10(target: &Target) -> Outcome {
    let server = target.start(&[])?;
    let mut client = Client::connect(server.addr)?;
    for _ in 0..2 {
        client.send("GET /numbers.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")?;
        let response = client.response()?;
        check(response.header("connection") == Some("keep-alive"), || {
            format!("{:?}", response.headers)
        })?;
    }
    client.send("GET /numbers.txt HTTP/1.0\r\n\r\n")?;
    let response = client.response()?;
    check(response.header("connection") == Some("close"), || {
        format!("{:?}", response.headers)
    })?;
    check(response.text() == NUMBERS, || response.text())?;
    client.expect_closed()?;
    server.finish()
}

fn pipelined_100(target: &Target) -> Outcome {
    let server = target.start(&[])?;
    let mut client = Client::connect(server.addr)?;
    let batch: String = (0..100)
        .map(|i| format!("GET /bytes/{i} HTTP/1.1\r\n\r\n"))
        .collect();
    client.send(batch)?;
    for i in 0..100 {
        let response = client.response()?;
        check(response.body.len() == i, || {
            format!("response {i} has {} bytes", response.body.len())
        })?;
    }
    server.finish()
}

fn one_byte_at_a_time(target: &Target) -> Outcome {
    let server = target.start(&[])?;
    let mut client = Client::connect(server.addr)?;
    for byte in b"GET /numbers.txt HTTP/1.1\r\nHost: x\r\n\r\n" {
        client.send([*byte])?;
        std::thread::sleep(Duration::from_millis(1));
    }
    let response = client.response()?;
    check(response.text() == NUMBERS, || response.text())?;
    server.finish()
}
