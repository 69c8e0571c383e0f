//! A test driver for `Connection`: the push loop of a perfect network, where
//! every write is accepted whole and time moves only when we say so.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::{Connection, FileError, FileWant, Proto, Service, Site};

/// What a connection said, and whether it ended up closed.
#[derive(Debug, PartialEq, Eq)]
pub struct Transcript {
    pub output: Vec<u8>,
    pub closed: bool,
}

impl Transcript {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }
}

pub fn service(proto: Proto) -> Arc<Service> {
    let mut service = Service::new(proto, Site::Embedded);
    service.idle_timeout = Duration::from_secs(1000);
    Arc::new(service)
}

/// Takes everything the connection has to write.
pub fn drain(conn: &mut Connection, out: &mut Vec<u8>, now: Instant) {
    while conn.wants_write() {
        let chunk = conn.output().to_vec();
        out.extend_from_slice(&chunk);
        conn.sent(chunk.len(), now);
    }
}

/// Feeds `chunks` at time `t0` (each no larger than the connection accepts,
/// as a model must), then optionally EOF, then lets every pending deadline
/// up to 70 s later fire, draining the output after each step.
pub fn drive(service: &Arc<Service>, chunks: &[&[u8]], eof: bool) -> Transcript {
    let t0 = Instant::now();
    let mut conn = Connection::new(service.clone(), t0);
    let mut out = Vec::new();
    for chunk in chunks {
        let mut rest = *chunk;
        while !rest.is_empty() && !conn.is_closed() {
            let n = conn.read_capacity().min(rest.len());
            if n == 0 {
                // Backpressure: drain, and if that frees nothing, let time run.
                drain(&mut conn, &mut out, t0);
                if conn.read_capacity() == 0 {
                    fire_next(&mut conn, &mut out, t0);
                    if conn.read_capacity() == 0 {
                        break;
                    }
                }
                continue;
            }
            conn.received(&rest[..n], t0);
            rest = &rest[n..];
            drain(&mut conn, &mut out, t0);
        }
    }
    if eof && !conn.is_closed() {
        conn.received_eof(t0);
    }
    drain(&mut conn, &mut out, t0);
    while !conn.is_closed() && fire_next(&mut conn, &mut out, t0) {}
    Transcript {
        output: out,
        closed: conn.is_closed(),
    }
}

/// Fires the next deadline if it is within 70 s of `t0`; false otherwise.
fn fire_next(conn: &mut Connection, out: &mut Vec<u8>, t0: Instant) -> bool {
    match conn.next_deadline() {
        Some(deadline) if deadline <= t0 + Duration::from_secs(70) => {
            conn.fire(deadline);
            drain(conn, out, deadline);
            true
        }
        _ => false,
    }
}

/// The status codes of every response in an output stream, in order.
pub fn statuses(output: &[u8]) -> Vec<u16> {
    let text = String::from_utf8_lossy(output);
    text.match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| text[i + 9..i + 12].parse().ok())
        .collect()
}

/// The model's side of `file_wanted`, over files in memory: what
/// `plumbing::files` does with `open` and `pread`, and io_uring with its ring.
#[derive(Default)]
pub struct Disk {
    /// The files, by full path.
    pub files: HashMap<PathBuf, Vec<u8>>,
    /// The file opened last: its path (it is read from `files` at each read,
    /// so a test can shrink or grow it while it is sent).
    pub open: Option<PathBuf>,
    /// Most bytes one read returns (a short read), 0 for no limit.
    pub max_read: usize,
    /// Every want, as it was asked.
    pub asked: Vec<String>,
}

impl Disk {
    /// Does what the connection wants of the file system until it wants
    /// nothing more (it waits for room, or has no file).
    pub fn serve(&mut self, conn: &mut Connection, now: Instant) {
        while let Some(want) = conn.file_wanted() {
            self.asked.push(format!("{want:?}"));
            match want {
                FileWant::Open { path, root } => {
                    let file = self.files.get(path).filter(|_| path.starts_with(root));
                    let opened = file.map(|bytes| bytes.len() as u64);
                    self.open = opened.map(|_| path.to_path_buf());
                    conn.file_opened(opened.ok_or(FileError::NotFound), now);
                }
                FileWant::Read { offset, len } => {
                    let path = self.open.as_ref().expect("a read follows an open");
                    let bytes = &self.files[path];
                    let limit = if self.max_read == 0 {
                        len
                    } else {
                        len.min(self.max_read)
                    };
                    let start = usize::try_from(offset).unwrap().min(bytes.len());
                    let end = (start + limit).min(bytes.len());
                    let chunk = bytes[start..end].to_vec();
                    conn.file_read(&chunk, now);
                }
            }
        }
    }

    /// Feeds `request` whole, then serves files and drains the output until
    /// neither moves.
    pub fn drive(&mut self, service: &Arc<Service>, request: &[u8]) -> Transcript {
        let t0 = Instant::now();
        let mut conn = Connection::new(service.clone(), t0);
        let mut out = Vec::new();
        conn.received(request, t0);
        loop {
            self.serve(&mut conn, t0);
            if !conn.wants_write() {
                break;
            }
            drain(&mut conn, &mut out, t0);
        }
        Transcript {
            output: out,
            closed: conn.is_closed(),
        }
    }
}
