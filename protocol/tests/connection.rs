//! The connection state machine end to end: routes, keep-alive, pipelining,
//! every bad-input row, timers, echo, and the split-point guarantee.

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::limits::{MAX_HEAD, MAX_UNSENT};
use protocol::{Connection, FileError, FileWant, Lent, Proto, Site};
use support::{Disk, drain, drive, service, statuses};

fn http(request: &str) -> support::Transcript {
    drive(&service(Proto::Http), &[request.as_bytes()], false)
}

/// The request streams whose every split point is checked.
const MESSAGES: &[&str] = &[
    "GET /numbers.txt HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.0\r\n\r\n",
    "HEAD /bytes/100 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /bytes/30 HTTP/1.1\nHost: x\n\nGET /delay/5 HTTP/1.1\r\n\r\nHEAD /numbers.txt HTTP/1.1\r\nConnection: close\r\n\r\n",
    "GET /cpu/5 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /missing HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    "\r\nGET /numbers.txt HTTP/1.1\r\n\r\n\r\nGET /style.css HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
    "POST / HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
    "GET / HTTP/2.0\r\n\r\n",
    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "GET /%2e%2e/secret HTTP/1.1\r\n\r\n",
    "GET /numbers.txt HTTP/1.1\r\n", // incomplete: waits, then 408
];

/// Every split point of every message, and one byte at a time, give exactly
/// the output of the whole message fed at once (docs/src/contract.md §5).
#[test]
fn every_split_point_gives_the_same_output() {
    let service = service(Proto::Http);
    for message in MESSAGES {
        let bytes = message.as_bytes();
        let whole = drive(&service, &[bytes], false);
        assert!(!whole.output.is_empty(), "{message:?} produced nothing");
        for cut in 0..=bytes.len() {
            let split = drive(&service, &[&bytes[..cut], &bytes[cut..]], false);
            assert_eq!(split, whole, "{message:?} split at {cut}");
        }
        let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(
            drive(&service, &bytewise, false),
            whole,
            "{message:?} byte by byte"
        );
    }
}

/// GET /numbers.txt: 200, text/plain, Content-Length 29, the six lines.
#[test]
fn get_numbers() {
    let t = http("GET /numbers.txt HTTP/1.1\r\n\r\n");
    assert_eq!(
        t.text(),
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 29\r\n\r\n\
         zero\none\ntwo\nthree\nfour\nfive\n"
    );
    assert!(!t.closed, "HTTP/1.1 keeps the connection");
}

/// HEAD sends the headers GET would send, and no body.
#[test]
fn head_has_headers_and_no_body() {
    let t = http("HEAD /bytes/1000 HTTP/1.1\r\n\r\n");
    assert_eq!(
        t.text(),
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n"
    );
}

/// /bytes, /delay and /cpu answer with the bodies docs/src/contract.md §3 gives.
#[test]
fn teaching_routes() {
    let t = http("GET /bytes/28 HTTP/1.1\r\n\r\n");
    assert!(
        t.text().ends_with("\r\n\r\nabcdefghijklmnopqrstuvwxyzab"),
        "{}",
        t.text()
    );
    let t = http("GET /delay/7 HTTP/1.1\r\n\r\n");
    assert!(
        t.text()
            .ends_with("Content-Length: 13\r\n\r\ndelayed 7 ms\n"),
        "{}",
        t.text()
    );
    let t = http("GET /cpu/3 HTTP/1.1\r\n\r\n");
    assert!(
        t.text().ends_with("Content-Length: 9\r\n\r\ncpu 3 us\n"),
        "{}",
        t.text()
    );
}

/// Keep-alive rules: 1.0 closes unless asked, and then says keep-alive;
/// 1.1 keeps unless asked to close, and then says close.
#[test]
fn keep_alive_both_versions() {
    let t = http("GET / HTTP/1.0\r\n\r\n");
    assert!(t.text().contains("Connection: close\r\n") && t.closed);
    let t = http("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert!(t.text().contains("Connection: keep-alive\r\n") && !t.closed);
    let t = http("GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert!(t.text().contains("Connection: close\r\n") && t.closed);
    let t = http("GET / HTTP/1.1\r\n\r\n");
    assert!(!t.text().contains("Connection:") && !t.closed);
}

/// 100 pipelined requests in one write get 100 answers, in order.
#[test]
fn hundred_pipelined_requests_in_order() {
    let mut stream = String::new();
    for i in 0..100 {
        stream.push_str(&format!("GET /bytes/{i} HTTP/1.1\r\n\r\n"));
    }
    let t = http(&stream);
    assert_eq!(statuses(&t.output), vec![200; 100]);
    let lengths: Vec<usize> = t
        .text()
        .match_indices("Content-Length: ")
        .map(|(i, _)| {
            t.text()[i + 16..]
                .split('\r')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(lengths, (0..100).collect::<Vec<_>>());
}

/// A request behind a /delay waits for it: responses leave in request order.
#[test]
fn delay_holds_later_pipelined_requests() {
    let t = http("GET /delay/50 HTTP/1.1\r\n\r\nGET /numbers.txt HTTP/1.1\r\n\r\n");
    let text = t.text();
    assert!(text.find("delayed 50 ms").unwrap() < text.find("zero").unwrap());
}

/// A /delay response is not produced one moment before its deadline.
#[test]
fn delay_is_never_early() {
    let t0 = Instant::now();
    let mut conn = Connection::new(service(Proto::Http), t0);
    conn.received(b"GET /delay/100 HTTP/1.1\r\n\r\n", t0);
    assert_eq!(conn.next_deadline(), Some(t0 + Duration::from_millis(100)));
    conn.fire(t0 + Duration::from_millis(99)); // a spurious, early wake-up
    assert!(!conn.wants_write());
    conn.fire(t0 + Duration::from_millis(100));
    assert!(conn.wants_write());
}

/// One test per row of docs/src/contract.md §3's bad-input table: the status, a one-line
/// text body, `Connection: close`, and the connection closed afterwards.
#[test]
fn bad_input_rows() {
    let big_head = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
    let rows: &[(&str, &str, u16)] = &[
        ("malformed request line", "GET /\r\n\r\n", 400),
        (
            "malformed header",
            "GET / HTTP/1.1\r\nno colon\r\n\r\n",
            400,
        ),
        ("bad percent-encoding", "GET /%zz HTTP/1.1\r\n\r\n", 400),
        ("other method", "PUT / HTTP/1.1\r\n\r\n", 405),
        (
            "Content-Length body",
            "GET / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
            413,
        ),
        (
            "Transfer-Encoding",
            "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            413,
        ),
        ("head over 8 KiB", &big_head, 431),
        ("HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 505),
        ("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
        ("traversal", "GET /../numbers.txt HTTP/1.1\r\n\r\n", 404),
        (
            "encoded traversal",
            "GET /%2e%2e/numbers.txt HTTP/1.1\r\n\r\n",
            404,
        ),
        ("encoded slash", "GET /a%2fb HTTP/1.1\r\n\r\n", 404),
        ("missing file", "GET /nope.txt HTTP/1.1\r\n\r\n", 404),
        ("out of range", "GET /delay/60001 HTTP/1.1\r\n\r\n", 404),
    ];
    for (row, request, status) in rows {
        let t = http(request);
        assert_eq!(statuses(&t.output), vec![*status], "{row}: {}", t.text());
        let text = t.text();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("Connection: close"), "{row}");
        assert!(
            body.starts_with(&status.to_string()) && body.ends_with('\n'),
            "{row}: {body:?}"
        );
        assert_eq!(body.lines().count(), 1, "{row}: one line");
        assert!(t.closed, "{row}: connection closes");
    }
    let t = http("DELETE / HTTP/1.1\r\n\r\n");
    assert!(t.text().contains("Allow: GET, HEAD\r\n"));
}

/// 431 comes as soon as 8 KiB arrive without the end of a head, not later.
#[test]
fn head_too_large_without_terminator() {
    let t0 = Instant::now();
    let mut conn = Connection::new(service(Proto::Http), t0);
    conn.received(b"GET / HTTP/1.1\r\nX: ", t0);
    conn.received(&vec![b'a'; MAX_HEAD], t0);
    let mut out = Vec::new();
    drain(&mut conn, &mut out, t0);
    assert_eq!(statuses(&out), vec![431]);
    assert!(conn.is_closed());
}

/// Slowloris: a head still incomplete 10 s after its first byte gets 408,
/// however recently its last byte came; not a moment earlier.
#[test]
fn request_timeout_408() {
    let t0 = Instant::now();
    let mut conn = Connection::new(service(Proto::Http), t0);
    conn.received(b"GET / HT", t0);
    conn.received(b"TP/1.1\r\n", t0 + Duration::from_secs(9));
    assert_eq!(conn.next_deadline(), Some(t0 + Duration::from_secs(10)));
    conn.fire(t0 + Duration::from_millis(9999));
    assert!(!conn.wants_write());
    conn.fire(t0 + Duration::from_secs(10));
    let mut out = Vec::new();
    drain(&mut conn, &mut out, t0 + Duration::from_secs(10));
    assert_eq!(statuses(&out), vec![408]);
    assert!(conn.is_closed());
}

/// A keep-alive connection idle past the idle timeout is closed quietly, and
/// any byte moved pushes the deadline back.
#[test]
fn idle_timeout_closes_quietly() {
    let t0 = Instant::now();
    let mut service = protocol::Service::new(Proto::Http, protocol::Site::Embedded);
    service.idle_timeout = Duration::from_secs(2);
    let mut conn = Connection::new(std::sync::Arc::new(service), t0);
    conn.received(b"GET / HTTP/1.1\r\n\r\n", t0);
    let mut out = Vec::new();
    drain(&mut conn, &mut out, t0 + Duration::from_secs(1));
    assert_eq!(conn.next_deadline(), Some(t0 + Duration::from_secs(3)));
    conn.fire(t0 + Duration::from_millis(2999));
    assert!(!conn.is_closed());
    conn.fire(t0 + Duration::from_secs(3));
    assert!(conn.is_closed() && !conn.wants_write());
}

/// Echo sends every byte back, and stops reading at 64 KiB unsent until the
/// client reads (backpressure).
#[test]
fn echo_backpressure() {
    let t0 = Instant::now();
    let mut conn = Connection::new(service(Proto::Echo), t0);
    assert_eq!(conn.read_capacity(), MAX_UNSENT);
    conn.received(&vec![7; MAX_UNSENT], t0);
    assert_eq!(conn.read_capacity(), 0, "full: stop reading");
    conn.sent(1000, t0);
    assert_eq!(conn.read_capacity(), 1000);
    conn.received(&[8; 1000], t0);
    assert_eq!(conn.output().len(), MAX_UNSENT);
    assert_eq!(conn.output()[MAX_UNSENT - 1], 8);
}

/// Echo half-close: after the client's EOF, what is owed is sent, then close.
#[test]
fn echo_half_close() {
    let t = drive(&service(Proto::Echo), &[b"hello\n", b"world\n"], true);
    assert_eq!(t.output, b"hello\nworld\n");
    assert!(t.closed);
}

/// HTTP EOF: complete requests before it are still answered; a partial one is dropped.
#[test]
fn http_eof_answers_what_was_asked() {
    let t = drive(
        &service(Proto::Http),
        &[b"GET / HTTP/1.1\r\n\r\nGET /num"],
        true,
    );
    assert_eq!(statuses(&t.output), vec![200]);
    assert!(t.closed);
}

/// A slow reader of /bytes/16777216 costs at most 64 KiB of buffered output.
#[test]
fn large_body_is_bounded_by_the_reader() {
    let t0 = Instant::now();
    let mut conn = Connection::new(service(Proto::Http), t0);
    conn.received(b"GET /bytes/16777216 HTTP/1.1\r\n\r\n", t0);
    assert!(conn.output().len() <= MAX_UNSENT + 200);
    let mut total = 0;
    let mut head = true;
    while conn.wants_write() {
        let n = conn.output().len().min(10_000);
        if head {
            let text = String::from_utf8_lossy(conn.output()).into_owned();
            total -= text.find("\r\n\r\n").unwrap() as i64 + 4;
            head = false;
        }
        total += n as i64;
        conn.sent(n, t0);
        assert!(conn.output().len() <= MAX_UNSENT);
    }
    assert_eq!(total, 16_777_216);
}

/// A `--root` site over files in memory (`support::Disk`): the protocol
/// names the file and the bytes, the model opens and reads them.
fn disk_site() -> (Arc<protocol::Service>, Disk) {
    let root = PathBuf::from("/srv/www");
    let mut service = protocol::Service::new(Proto::Http, Site::directory(root.clone()));
    service.idle_timeout = Duration::from_secs(1000);
    let mut disk = Disk::default();
    disk.files
        .insert(root.join("a.txt"), b"from disk\n".to_vec());
    disk.files
        .insert(root.join("sub/index.html"), b"<p>sub</p>".to_vec());
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    disk.files.insert(root.join("big.bin"), big);
    (Arc::new(service), disk)
}

/// Files under --root come from the model, with content types by extension;
/// the embedded site is not served beside them.
#[test]
fn directory_site() {
    let (service, mut disk) = disk_site();
    let t = disk.drive(&service, b"GET /a.txt HTTP/1.1\r\n\r\n");
    assert!(
        t.text()
            .ends_with("Content-Type: text/plain\r\nContent-Length: 10\r\n\r\nfrom disk\n"),
        "{}",
        t.text()
    );
    assert!(!t.closed);
    let t = disk.drive(&service, b"GET /sub/ HTTP/1.1\r\n\r\n");
    assert!(t.text().contains("text/html") && t.text().ends_with("<p>sub</p>"));
    let t = disk.drive(&service, b"GET /numbers.txt HTTP/1.1\r\n\r\n");
    assert_eq!(
        statuses(&t.output),
        vec![404],
        "the embedded site is not served with --root"
    );
    assert!(t.closed);
}

/// A large file is asked for in reads no larger than the output's room (the
/// memory bound holds), and short reads give the same bytes.
#[test]
fn file_reads_respect_the_room_and_may_be_short() {
    let (service, mut disk) = disk_site();
    let whole = disk.drive(&service, b"GET /big.bin HTTP/1.1\r\n\r\n");
    let body = &whole.output[whole.output.len() - 200_000..];
    assert_eq!(body, &disk.files[&PathBuf::from("/srv/www/big.bin")][..]);
    for asked in &disk.asked {
        if let Some(len) = asked.strip_prefix("Read { offset: ") {
            let len: usize = len
                .split("len: ")
                .nth(1)
                .unwrap()
                .trim_end_matches(" }")
                .parse()
                .unwrap();
            assert!(len > 0 && len <= MAX_UNSENT, "{asked}");
        }
    }
    disk.max_read = 1000;
    assert_eq!(
        disk.drive(&service, b"GET /big.bin HTTP/1.1\r\n\r\n"),
        whole
    );
}

/// HEAD opens the file for its length and reads nothing of it.
#[test]
fn head_of_a_file_reads_nothing() {
    let (service, mut disk) = disk_site();
    let t = disk.drive(&service, b"HEAD /big.bin HTTP/1.1\r\n\r\n");
    assert!(
        t.text().ends_with("Content-Length: 200000\r\n\r\n"),
        "{}",
        t.text()
    );
    assert_eq!(disk.asked.len(), 1, "{:?}", disk.asked);
    assert!(disk.asked[0].starts_with("Open"));
}

/// Pipelined requests behind a file wait for it: answers in request order.
#[test]
fn requests_behind_a_file_wait_for_it() {
    let (service, mut disk) = disk_site();
    let t0 = Instant::now();
    let mut conn = Connection::new(service.clone(), t0);
    conn.received(b"GET /a.txt HTTP/1.1\r\n\r\nGET /sub/ HTTP/1.1\r\n\r\n", t0);
    assert!(
        !conn.wants_write(),
        "nothing is answered before the file is open"
    );
    assert!(!conn.is_idle(), "a file being opened is owed");
    assert!(conn.file_in_use());
    let mut out = Vec::new();
    disk.serve(&mut conn, t0);
    drain(&mut conn, &mut out, t0);
    let text = String::from_utf8(out).unwrap();
    let (first, second) = (
        text.find("from disk").unwrap(),
        text.find("<p>sub</p>").unwrap(),
    );
    assert!(first < second, "{text}");
    assert!(!conn.file_in_use() && conn.is_idle());
}

/// No fd to open the file with: 503 (the file may be there), not 404.
#[test]
fn out_of_files_is_a_503() {
    let (service, _) = disk_site();
    let t0 = Instant::now();
    let mut conn = Connection::new(service, t0);
    conn.received(b"GET /a.txt HTTP/1.1\r\n\r\n", t0);
    conn.file_opened(Err(FileError::OutOfFiles), t0);
    let mut out = Vec::new();
    drain(&mut conn, &mut out, t0);
    assert_eq!(statuses(&out), vec![503]);
    assert!(conn.is_closed());
}

/// A file that shrinks (or is cut) while it is sent cannot meet its
/// Content-Length: the connection ends; one that grows is sent as long as
/// it was when opened, and the connection goes on.
#[test]
fn a_file_that_changes_while_sent() {
    let (service, mut disk) = disk_site();
    let path = PathBuf::from("/srv/www/big.bin");
    let t0 = Instant::now();
    let mut conn = Connection::new(service.clone(), t0);
    conn.received(b"GET /big.bin HTTP/1.1\r\n\r\n", t0);
    let Some(FileWant::Open { .. }) = conn.file_wanted() else {
        panic!("no open asked")
    };
    conn.file_opened(Ok(200_000), t0);
    disk.open = Some(path.clone());
    disk.files.get_mut(&path).unwrap().truncate(100_000);
    let mut out = Vec::new();
    while !conn.is_closed() {
        disk.serve(&mut conn, t0);
        drain(&mut conn, &mut out, t0);
    }
    assert!(out.len() < 200_000, "a short body, then the close");

    disk.files.get_mut(&path).unwrap().resize(300_000, 7);
    let t = disk.drive(&service, b"GET /big.bin HTTP/1.1\r\n\r\n");
    assert!(t.text().contains("Content-Length: 300000\r\n"));
    let mut conn = Connection::new(service, t0);
    conn.received(b"GET /big.bin HTTP/1.1\r\n\r\n", t0);
    conn.file_opened(Ok(250_000), t0);
    disk.files.get_mut(&path).unwrap().resize(400_000, 9);
    let mut out = Vec::new();
    while conn.wants_write() || conn.file_wanted().is_some() {
        disk.serve(&mut conn, t0);
        drain(&mut conn, &mut out, t0);
    }
    let head_end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(
        out.len() - head_end,
        250_000,
        "as long as when it was opened"
    );
    assert!(!conn.is_closed());
}

/// A connection over the server's limit: HTTP owes one 503 that closes, and
/// reads nothing; echo is closed at once with nothing owed.
#[test]
fn refused_connection() {
    let t0 = Instant::now();
    let mut conn = Connection::refused(service(Proto::Http), t0);
    assert_eq!(
        conn.read_capacity(),
        0,
        "a refused connection reads nothing"
    );
    assert!(!conn.is_closed(), "the 503 is still owed");
    let mut out = Vec::new();
    drain(&mut conn, &mut out, t0);
    let text = String::from_utf8(out.clone()).unwrap();
    assert_eq!(statuses(&out), vec![503]);
    assert!(text.contains("Connection: close\r\n"), "{text}");
    assert!(text.ends_with("503 Service Unavailable: too many connections, try again later\n"));
    assert!(conn.is_closed());

    let echo = Connection::refused(service(Proto::Echo), t0);
    assert!(echo.is_closed());
    assert!(!echo.wants_write());
}

/// The completion models' way: the output is lent (taken out, no copy) and
/// returned with how much went; a short send's tail goes first again, bytes
/// that arrive meanwhile queue behind it, and the bound counts lent bytes.
/// A body that lives as long as the program is lent from where it is.
#[test]
fn lent_output_keeps_order_and_the_bound() {
    let t0 = Instant::now();
    // Echo: input arrives while bytes are lent; every return is short.
    let mut conn = Connection::new(service(Proto::Echo), t0).lending();
    let input: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let (mut fed, mut out) = (0, Vec::new());
    let mut lent: Option<Lent> = None;
    while out.len() < input.len() {
        let room = conn.read_capacity().min(input.len() - fed).min(7_000);
        if room > 0 {
            conn.received(&input[fed..fed + room], t0);
            fed += room;
        }
        match lent.take() {
            Some(lent) => {
                assert!(lent.body.is_empty(), "echo bytes are the client's: copied");
                let sent = lent.len() / 2 + 1;
                out.extend_from_slice(&lent.bytes[..sent]);
                conn.returned(lent, sent, t0);
            }
            None => lent = conn.lend_output(),
        }
        let owed = lent.as_ref().map_or(0, Lent::len) + conn.output().len();
        assert!(owed <= MAX_UNSENT, "{owed} bytes owed");
        assert!(
            lent.is_none() || conn.lend_output().is_none(),
            "one lend at a time"
        );
    }
    assert_eq!(out, input);

    // HTTP: lent and returned whole or in pieces, the same bytes as written;
    // the large bodies (the pattern, the embedded index) lent in place.
    let service = service(Proto::Http);
    let request = b"GET /bytes/200000 HTTP/1.1\r\n\r\nGET /numbers.txt HTTP/1.1\r\n\r\n\
                    GET /bytes/5000 HTTP/1.1\r\n\r\nHEAD /bytes/9999 HTTP/1.1\r\n\r\n";
    let written = drive(&service, &[request], false).output;
    for piece in [usize::MAX, 1000, 65_535, 65_600] {
        let mut conn = Connection::new(service.clone(), t0).lending();
        conn.received(request, t0);
        let (mut out, mut in_place) = (Vec::new(), 0);
        while let Some(lent) = conn.lend_output() {
            assert!(lent.bytes.len() <= MAX_UNSENT + 200 && lent.body.len() <= MAX_UNSENT);
            in_place += lent.body.len();
            let sent = lent.len().min(piece);
            let all: Vec<u8> = [&lent.bytes[..], lent.body].concat();
            out.extend_from_slice(&all[..sent]);
            conn.returned(lent, sent, t0);
        }
        assert_eq!(out, written, "returned in pieces of {piece}");
        assert!(conn.is_idle() && !conn.wants_write());
        if piece == usize::MAX {
            assert!(in_place >= 200_000, "only {in_place} bytes lent in place");
        }
    }
}
