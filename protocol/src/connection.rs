//! One connection as a state value: bytes and time in, bytes and deadlines out.
//!
//! The model owns the socket and the clock; the `Connection` owns everything
//! else. The model's side of the conversation, in either loop shape:
//!
//! | the model ...                          | calls                          |
//! |----------------------------------------|--------------------------------|
//! | asks how much it may read now          | [`Connection::read_capacity`]  |
//! | read n > 0 bytes                       | [`Connection::received`]       |
//! | read 0 bytes (EOF)                     | [`Connection::received_eof`]   |
//! | wants the bytes to write               | [`Connection::output`]         |
//! | wrote n of them                        | [`Connection::sent`]           |
//! | (completion models) takes them, lent   | [`Connection::lend_output`]    |
//! | (completion models) n of them went out | [`Connection::returned`]       |
//! | asks when to wake up for this conn     | [`Connection::next_deadline`]  |
//! | reached that time (or woke early)      | [`Connection::fire`]           |
//! | asks whether to close the socket       | [`Connection::is_closed`]      |
//! | asks what to open or read (`--root`)   | [`Connection::file_wanted`]    |
//! | opened the file (or could not)         | [`Connection::file_opened`]    |
//! | read bytes of it                       | [`Connection::file_read`]      |
//!
//! Guarantees, each checked by the tests below:
//! - Any split of the same input bytes gives the same output bytes.
//! - Unsent output never exceeds [`MAX_UNSENT`] (plus one response head), as
//!   long as the model reads no more than `read_capacity()` allows.
//! - `fire` before a deadline is harmless (a spurious wake-up does nothing).
//! - Nothing here panics on any input, or reads a clock, or touches a socket
//!   or a file: a `--root` file is opened and read by the model, when
//!   [`Connection::file_wanted`] asks (the protocol says which file and
//!   which bytes; the model decides how: `pread`, or its ring).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::Rejection;
use crate::limits::{HEAD_TIMEOUT, MAX_HEAD, MAX_INPUT, MAX_UNSENT};
use crate::request::{Method, Request, Version, find_head_end, parse_head};
use crate::response::{Body, Head};
use crate::route::{Route, route};
use crate::service::{Proto, Service};
use crate::site::{FileError, FileWant, SiteFile};

// ANCHOR: connection_struct
/// The state of one client connection. See the module docs for how to drive it.
///
/// Between requests a connection owes nothing and holds nothing but these
/// few words: what a request in progress needs (its bytes in and out, its
/// body, its deadline) is its `Exchange`, allocated when the request's
/// first byte arrives and freed when the connection owes nothing again. A
/// server holding 10,000 idle connections holds 10,000 of these, not
/// 10,000 exchanges.
#[derive(Debug)]
pub struct Connection {
    /// The shared configuration: protocol, site, idle timeout.
    service: Arc<Service>,
    /// The request in progress, if any; `None` while idle.
    exchange: Option<Box<Exchange>>,
    /// When a byte last moved in either direction. Drives the idle timeout.
    last_active: Instant,
    /// The model lends (a completion model): a body whose bytes live as long
    /// as the program is lent from where it is, not copied into the output.
    lending: bool,
    /// False once the peer sent EOF or we decided to close: read no more.
    reading: bool,
    /// True once a response ends the connection: answer nothing after it.
    closing: bool,
    /// True when the model should close the socket.
    closed: bool,
}

/// What a connection holds while it owes something: from the first byte of
/// a request until its answer has gone (and every pipelined one behind it).
#[derive(Debug, Default)]
struct Exchange {
    /// Received bytes not yet parsed (HTTP only): the next request heads.
    input: Vec<u8>,
    /// How much of `input` the head scan has already looked at, so that a
    /// head trickling in byte by byte is scanned once, not once per byte.
    scanned: usize,
    /// Bytes to write: response heads and body chunks, or echoed bytes.
    output: Vec<u8>,
    /// How many bytes at the front of `output` are already written. Keeping
    /// an offset instead of shifting the buffer after each partial write.
    written: usize,
    /// How many bytes are lent to a completion model ([`Connection::lend_output`]):
    /// they come before everything in `output`, and count against the bound.
    lent: usize,
    /// How many bytes of the body are lent in place now (part of `lent`).
    /// The body stays until they come back: what follows it waits.
    lent_piece: usize,
    /// The rest of the response body being sent, produced as room allows.
    body: Option<Body>,
    /// A `/delay` response waiting for its time; requests behind it wait too
    /// (responses go out in request order).
    delayed: Option<Delayed>,
    /// A `--root` file the model is asked to open: its answer waits for the
    /// file's length, and requests behind it wait too.
    opening: Option<Opening>,
    /// When the first byte of the request head now being received arrived;
    /// `None` between requests. Drives the 408.
    head_started: Option<Instant>,
}
// ANCHOR_END: connection_struct

/// Bytes lent to a completion model for one send ([`Connection::lend_output`]):
/// the output's buffer, then maybe a piece of a body that lives as long as
/// the program, sent from where it is. Both go back with
/// [`Connection::returned`] when the send completes.
#[derive(Debug, Default)]
pub struct Lent {
    /// The output's buffer, taken out of the connection.
    pub bytes: Vec<u8>,
    /// The body piece that follows them, not copied (may be empty).
    pub body: &'static [u8],
}

impl Lent {
    /// How many bytes in all.
    pub fn len(&self) -> usize {
        self.bytes.len() + self.body.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A `/delay/<ms>` response and when it may be sent.
#[derive(Debug)]
struct Delayed {
    /// The earliest time the response may leave.
    until: Instant,
    /// The requested delay, for the body text.
    ms: u64,
    /// How to answer: method, version, keep-alive.
    answer: Answer,
}

/// A file to open, and how to answer once it is open.
#[derive(Debug)]
struct Opening {
    path: PathBuf,
    content_type: &'static str,
    answer: Answer,
}

/// The facts about a request that shape its response.
#[derive(Debug, Clone, Copy)]
struct Answer {
    method: Method,
    version: Version,
    keep_alive: bool,
}

impl Answer {
    fn of(request: &Request) -> Answer {
        Answer {
            method: request.method,
            version: request.version,
            keep_alive: request.keep_alive,
        }
    }
}

/// The exchange of an idle connection: nothing in, nothing out, nothing
/// owed. What [`Connection`]'s readers see while its `exchange` is `None`.
static IDLE: Exchange = Exchange {
    input: Vec::new(),
    scanned: 0,
    output: Vec::new(),
    written: 0,
    lent: 0,
    lent_piece: 0,
    body: None,
    delayed: None,
    opening: None,
    head_started: None,
};

impl Exchange {
    /// Bytes owed: in the output, and lent to the model's kernel.
    fn unsent(&self) -> usize {
        self.output.len() - self.written + self.lent
    }

    /// Owes nothing: no bytes to write or lent, no body, no `/delay`, no
    /// file to open.
    fn owes_nothing(&self) -> bool {
        self.unsent() == 0
            && self.body.is_none()
            && self.delayed.is_none()
            && self.opening.is_none()
    }

    /// Owes nothing and holds no bytes of a next request: it can go.
    fn is_finished(&self) -> bool {
        self.owes_nothing() && self.input.is_empty()
    }

    /// Drops the written front of `output` before appending, so the buffer
    /// only ever holds unsent bytes plus what is being added.
    fn compact_output(&mut self) {
        if self.written > 0 {
            self.output.drain(..self.written);
            self.written = 0;
        }
    }

    /// Takes the next complete request head off `input`, if there is one.
    fn next_request(&mut self, now: Instant) -> Option<Result<Request, Rejection>> {
        // Empty lines between requests are skipped (RFC 9112 §2.2).
        let blank = self
            .input
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if blank > 0 {
            self.input.drain(..blank);
            self.scanned = self.scanned.saturating_sub(blank);
        }
        if self.input.is_empty() {
            self.head_started = None;
            return None;
        }
        let Some(end) = find_head_end(&self.input, self.scanned) else {
            self.scanned = self.input.len();
            if self.input.len() > MAX_HEAD {
                return Some(Err(Rejection::HeadTooLarge));
            }
            self.head_started.get_or_insert(now);
            return None;
        };
        let parsed = if end > MAX_HEAD {
            Err(Rejection::HeadTooLarge)
        } else {
            parse_head(&self.input[..end])
        };
        self.input.drain(..end);
        self.scanned = 0;
        // Bytes already behind this head start the next one's 408 clock.
        self.head_started = (!self.input.is_empty()).then_some(now);
        Some(parsed)
    }
}

impl Connection {
    /// What a connection is made of, field by field ([`mod@crate::layout`]).
    pub fn layout() -> crate::layout::Part {
        crate::layout!(Connection {
            service,
            exchange,
            last_active,
            lending,
            reading,
            closing,
            closed
        })
    }

    /// What a request in progress adds, out of line (boxed), field by field.
    pub fn exchange_layout() -> crate::layout::Part {
        crate::layout!(Exchange {
            input,
            scanned,
            output,
            written,
            lent,
            lent_piece,
            body,
            delayed,
            opening,
            head_started
        })
    }

    /// A new connection, accepted at `now`.
    pub fn new(service: Arc<Service>, now: Instant) -> Connection {
        Connection {
            service,
            exchange: None,
            last_active: now,
            lending: false,
            reading: true,
            closing: false,
            closed: false,
        }
    }

    /// The same connection, for a model that takes its output lent
    /// ([`Connection::lend_output`]) from the first response on: a body
    /// whose bytes live as long as the program is never copied for it.
    pub fn lending(mut self) -> Connection {
        self.lending = true;
        self
    }

    /// A connection accepted at `now` only to be turned away: the server is
    /// at its connection limit. Over HTTP it owes a `503 Service Unavailable`
    /// (with `Connection: close`) and then closes; over echo there is nothing
    /// to say, so it is closed from the start. It reads nothing.
    pub fn refused(service: Arc<Service>, now: Instant) -> Connection {
        let mut conn = Connection::new(service, now);
        conn.reading = false;
        match conn.service.proto {
            Proto::Http => conn.reject(Rejection::ServiceUnavailable, None),
            Proto::Echo => conn.closing = true,
        }
        conn.settle();
        conn
    }

    /// How many bytes the model may read now; 0 means "do not read" (the
    /// peer's EOF was seen, or the connection is closing, or it is full:
    /// that is backpressure). Reading more than this breaks the memory bound.
    pub fn read_capacity(&self) -> usize {
        if !self.reading || self.closed {
            return 0;
        }
        match self.service.proto {
            Proto::Echo => MAX_UNSENT.saturating_sub(self.ex().unsent()),
            Proto::Http => MAX_INPUT.saturating_sub(self.ex().input.len()),
        }
    }

    /// The model read `data` (non-empty) from the socket at `now`.
    pub fn received(&mut self, data: &[u8], now: Instant) {
        if data.is_empty() || !self.reading {
            return;
        }
        self.last_active = now;
        // The first byte of a request: its exchange begins.
        let ex = self.exchange.get_or_insert_default();
        match self.service.proto {
            Proto::Echo => {
                ex.compact_output();
                ex.output.extend_from_slice(data);
            }
            Proto::Http => ex.input.extend_from_slice(data),
        }
        self.advance(now);
    }

    /// The model read EOF: the peer will send nothing more. Everything owed
    /// is still sent (echo's half-close, HTTP's last pipelined answers), then
    /// the connection closes.
    pub fn received_eof(&mut self, now: Instant) {
        self.reading = false;
        self.advance(now);
    }

    /// The bytes to write now (empty when there is nothing to write). For
    /// a model that writes and is told at once how much went (every
    /// readiness and thread model); io_uring takes them instead
    /// ([`Connection::lend_output`]).
    pub fn output(&self) -> &[u8] {
        let ex = self.ex();
        &ex.output[ex.written..]
    }

    /// Whether there are bytes to write: the model's cue for write interest.
    pub fn wants_write(&self) -> bool {
        self.ex().unsent() > 0
    }

    /// The model wrote the first `n` bytes of [`Connection::output`] at `now`.
    /// A partial write is normal: the rest stays for the next call.
    pub fn sent(&mut self, n: usize, now: Instant) {
        if let Some(ex) = self.exchange.as_deref_mut() {
            ex.written = (ex.written + n).min(ex.output.len());
            if ex.written == ex.output.len() {
                // All written: free the buffer (a long answer is written
                // in many rounds; none of them needs the last one's room).
                ex.output = Vec::new();
                ex.written = 0;
            }
        }
        if n > 0 {
            self.last_active = now;
        }
        self.advance(now);
    }

    // ANCHOR: files
    /// What the connection needs from the file system now, if anything: a
    /// file to open (a `--root` request), or bytes of the open file to read
    /// (as many as the output has room for). The model does it, by whatever
    /// means its model has, and reports with [`Connection::file_opened`] or
    /// [`Connection::file_read`]; then asks again.
    pub fn file_wanted(&self) -> Option<FileWant<'_>> {
        if self.closed {
            return None;
        }
        let ex = self.ex();
        if let Some(opening) = &ex.opening {
            let root = self.service.site.root()?;
            let path = &opening.path;
            return Some(FileWant::Open { path, root });
        }
        let Some(Body::File { next, end }) = &ex.body else {
            return None;
        };
        let room = MAX_UNSENT.saturating_sub(ex.unsent());
        let len = room.min(usize::try_from(end - next).unwrap_or(usize::MAX));
        (len > 0).then_some(FileWant::Read { offset: *next, len })
    }

    /// Whether a file's body is being sent: while it is, the model keeps the
    /// file open; once it is not, the model may close it.
    pub fn file_in_use(&self) -> bool {
        let ex = self.ex();
        ex.opening.is_some() || matches!(ex.body, Some(Body::File { .. }))
    }

    /// The model opened the file [`FileWant::Open`] named, at `now`: its
    /// length, or why not. The answer's head goes out; its body is read next.
    pub fn file_opened(&mut self, opened: Result<u64, FileError>, now: Instant) {
        let opening = self.exchange.as_mut().and_then(|ex| ex.opening.take());
        let Some(Opening {
            content_type,
            answer,
            ..
        }) = opening
        else {
            return;
        };
        match opened {
            Ok(len) => {
                let body = Body::File { next: 0, end: len };
                self.answer(answer, content_type, body);
            }
            Err(FileError::NotFound) => self.reject(Rejection::NotFound, Some(answer)),
            Err(FileError::OutOfFiles) => self.reject(Rejection::OutOfFiles, Some(answer)),
        }
        self.advance(now);
    }

    /// The model read `data` at the offset [`FileWant::Read`] named, at
    /// `now`. Fewer bytes than asked is fine (it asks again for the rest);
    /// none (the file ended early: it shrank, or a read failed) breaks the
    /// body: the promised `Content-Length` cannot be met, so all that can
    /// honestly be done is to end the connection.
    pub fn file_read(&mut self, data: &[u8], now: Instant) {
        let Some(FileWant::Read { len, .. }) = self.file_wanted() else {
            return;
        };
        if data.is_empty() {
            self.break_body();
            self.advance(now);
            return;
        }
        // A file is wanted: the exchange is there.
        let ex = self.exchange.get_or_insert_default();
        let Some(Body::File { next, end }) = &mut ex.body else {
            return;
        };
        let data = &data[..data.len().min(len)];
        *next += data.len() as u64;
        if *next == *end {
            ex.body = None;
        }
        ex.compact_output();
        ex.output.extend_from_slice(data);
        self.last_active = now;
        self.advance(now);
    }
    // ANCHOR_END: files

    // ANCHOR: lend
    /// For a model whose kernel reads the bytes *after* the call that hands
    /// them over (io_uring): takes the bytes to write now out of the
    /// connection, without a copy. The model owns them until it gives them
    /// back with [`Connection::returned`]; meanwhile the connection writes
    /// what comes next into a new buffer, so nothing moves the lent bytes
    /// under the kernel. `None` when there is nothing to write, or bytes are
    /// lent already (one send in flight: the next must follow it).
    ///
    /// A body whose bytes live as long as the program (the `/bytes`
    /// pattern, a file of the embedded site) is not copied into the output
    /// for a connection that lends: up to [`MAX_UNSENT`] of it follow the
    /// output's bytes as [`Lent::body`], to be sent from where they are
    /// (a gathered send). They hold no memory, so the bound is kept.
    pub fn lend_output(&mut self) -> Option<Lent> {
        self.lending = true;
        // Idle: nothing to lend.
        let ex = self.exchange.as_deref_mut()?;
        if ex.lent > 0 {
            return None;
        }
        ex.compact_output();
        let bytes = std::mem::take(&mut ex.output);
        let body = match ex.body.as_mut().filter(|body| body.lendable()) {
            Some(body) => body.lend(MAX_UNSENT),
            None => &[],
        };
        let lent = Lent { bytes, body };
        if lent.is_empty() {
            ex.output = lent.bytes;
            return None;
        }
        ex.lent = lent.len();
        ex.lent_piece = body.len();
        Some(lent)
    }

    /// The model's send of the lent `bytes` completed at `now`: `sent` of
    /// them went out. A tail that did not go out comes first in line again.
    /// The buffer is kept for what comes next if nothing was written behind
    /// it (it was just read by the kernel: its lines are in the cache), and
    /// freed if the connection has nothing more to say.
    pub fn returned(&mut self, lent: Lent, sent: usize, now: Instant) {
        let sent = sent.min(lent.len());
        if sent > 0 {
            self.last_active = now;
        }
        let Lent { mut bytes, body } = lent;
        // Bytes were lent: the exchange is there (it owed them).
        let ex = self.exchange.get_or_insert_default();
        // A body piece that did not all go out is lent again next, from
        // where it is; a body all lent and all gone is done.
        let piece_sent = sent.saturating_sub(bytes.len());
        if let Some(lent_body) = &mut ex.body {
            lent_body.unlend(body.len() - piece_sent);
            if lent_body.remaining() == 0 {
                ex.body = None;
            }
        }
        (ex.lent, ex.lent_piece) = (0, 0);
        let bytes_sent = sent.min(bytes.len());
        if ex.written == ex.output.len() {
            // Nothing behind the bytes: their buffer becomes the output
            // again, with what did not go out first (usually nothing).
            if bytes_sent == bytes.len() {
                bytes.clear();
            }
            ex.written = if bytes.is_empty() { 0 } else { bytes_sent };
            ex.output = bytes;
        } else if bytes_sent < bytes.len() {
            // Bytes were written behind them: the unsent tail goes first.
            bytes.drain(..bytes_sent);
            bytes.extend_from_slice(&ex.output[ex.written..]);
            ex.output = bytes;
            ex.written = 0;
        }
        self.advance(now);
    }
    // ANCHOR_END: lend

    // ANCHOR: timers
    /// When the model must call [`Connection::fire`] next, if ever: the end of
    /// a `/delay`, the 408 deadline of a half-received head, or the idle timeout.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        let ex = self.ex();
        if let Some(delayed) = &ex.delayed {
            return Some(delayed.until);
        }
        let idle = self.last_active + self.service.idle_timeout;
        match ex.head_started {
            Some(started) => Some(idle.min(started + HEAD_TIMEOUT)),
            None => Some(idle),
        }
    }

    /// Time has reached `now`: act on whatever deadline is due. Calling it
    /// early (a spurious wake-up, a timer that fired twice) does nothing.
    pub fn fire(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if let Some(delayed) = &self.ex().delayed {
            if now >= delayed.until {
                let delayed = self.exchange.as_mut().and_then(|ex| ex.delayed.take());
                let Delayed { ms, answer, .. } = delayed.expect("checked above");
                self.last_active = now;
                self.answer(
                    answer,
                    "text/plain",
                    Body::text(format!("delayed {ms} ms\n")),
                );
                self.advance(now);
            }
            return; // while a response is owed, the connection is not idle
        }
        if self
            .ex()
            .head_started
            .is_some_and(|started| now >= started + HEAD_TIMEOUT)
        {
            self.reject(Rejection::RequestTimeout, None);
            self.advance(now);
        } else if now >= self.last_active + self.service.idle_timeout {
            // Idle: close quietly, dropping whatever the peer never read.
            self.closed = true;
            self.reading = false;
        }
    }

    // ANCHOR_END: timers

    /// Whether the model should close the socket now: everything owed was
    /// written (or the connection timed out). Final.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Whether the connection sits between requests, owing nothing: the
    /// moment a server that is shutting down may close it.
    pub fn is_idle(&self) -> bool {
        self.ex().is_finished()
    }

    /// The request in progress, or [`IDLE`]'s empty one between requests.
    fn ex(&self) -> &Exchange {
        self.exchange.as_deref().unwrap_or(&IDLE)
    }

    /// Does all the work that the current state allows: produce more of the
    /// body while there is room, answer the next complete request, and so on,
    /// until the output is full or nothing more can be done.
    fn advance(&mut self, now: Instant) {
        // Idle and nothing arrived: nothing to do, and no exchange to begin.
        if self.exchange.is_some() {
            self.produce(now);
        }
        // Owes nothing and holds nothing: the exchange is over.
        if self.exchange.as_ref().is_some_and(|ex| ex.is_finished()) {
            self.exchange = None;
        }
        self.settle();
    }

    /// The loop of [`Connection::advance`]: body bytes while there is room,
    /// then the next complete request, until nothing more can be done now.
    fn produce(&mut self, now: Instant) {
        loop {
            let ex = self.exchange.get_or_insert_default().as_mut();
            let room = MAX_UNSENT.saturating_sub(ex.unsent());
            if ex.body.is_some() && room > 0 {
                ex.compact_output();
            }
            if let Some(body) = &mut ex.body {
                // A file's bytes come from the model (`file_wanted`); a
                // lending model takes a lendable body as it is (`lend_output`).
                let lent_in_place = self.lending && (ex.lent_piece > 0 || body.lendable());
                if room == 0 || matches!(body, Body::File { .. }) || lent_in_place {
                    break;
                }
                if body.produce(&mut ex.output, room) {
                    ex.body = None;
                }
                continue;
            }
            let idle_http =
                self.service.proto == Proto::Http && ex.delayed.is_none() && ex.opening.is_none();
            if !idle_http || self.closing || room == 0 {
                break;
            }
            match ex.next_request(now) {
                Some(Ok(request)) => self.respond(&request, now),
                Some(Err(rejection)) => self.reject(rejection, None),
                None => break,
            }
        }
    }

    /// Routes a well-formed request and starts its response.
    fn respond(&mut self, request: &Request, now: Instant) {
        let answer = Answer::of(request);
        match route(&request.target, &self.service.site) {
            Err(rejection) => self.reject(rejection, Some(answer)),
            Ok(Route::File(SiteFile::Embedded(bytes), content_type)) => {
                self.answer(answer, content_type, Body::Memory(bytes.into(), 0))
            }
            Ok(Route::File(SiteFile::Disk(path), content_type)) => {
                // Answered when the model has opened it: `file_opened`.
                self.exchange.get_or_insert_default().opening = Some(Opening {
                    path,
                    content_type,
                    answer,
                });
            }
            Ok(Route::Bytes(n)) => {
                let body = Body::Pattern { next: 0, end: n };
                self.answer(answer, "application/octet-stream", body);
            }
            Ok(Route::Cpu(us)) => {
                // The handler itself does the work: this thread is busy for
                // `us` microseconds, and whatever else it serves waits.
                (self.service.burn_cpu)(Duration::from_micros(us));
                self.answer(answer, "text/plain", Body::text(format!("cpu {us} us\n")));
            }
            Ok(Route::Delay(ms)) => {
                let until = now + Duration::from_millis(ms);
                let delayed = Some(Delayed { until, ms, answer });
                self.exchange.get_or_insert_default().delayed = delayed;
            }
        }
    }

    /// Writes a 200 response head and sets up its body (none for HEAD).
    fn answer(&mut self, answer: Answer, content_type: &'static str, body: Body) {
        let head = Head {
            status: (200, "OK"),
            content_type,
            content_length: body.remaining(),
            keep_alive: answer.keep_alive,
            version: answer.version,
            allow: false,
        };
        self.start_response(&head, answer.method, body);
    }

    /// Answers bad input with its status and a one-line text, then closes.
    /// `answer` is known when the head parsed (a 404 to a HEAD has no body).
    fn reject(&mut self, rejection: Rejection, answer: Option<Answer>) {
        let body = Body::text(format!("{rejection}\n"));
        let head = Head {
            status: rejection.status(),
            content_type: "text/plain",
            content_length: body.remaining(),
            keep_alive: false,
            version: answer.map_or(Version::Http11, |a| a.version),
            allow: rejection == Rejection::MethodNotAllowed,
        };
        let ex = self.exchange.get_or_insert_default();
        ex.input = Vec::new(); // nothing after bad input is answered
        ex.head_started = None;
        self.start_response(&head, answer.map_or(Method::Get, |a| a.method), body);
    }

    /// A body that cannot be completed (a file shrank or failed to read):
    /// what is unsent is dropped and the connection ends.
    fn break_body(&mut self) {
        if let Some(ex) = self.exchange.as_deref_mut() {
            ex.body = None;
            ex.output.clear();
            ex.written = 0;
        }
        self.closing = true;
        self.reading = false;
    }

    fn start_response(&mut self, head: &Head, method: Method, body: Body) {
        let ex = self.exchange.get_or_insert_default();
        ex.compact_output();
        head.write(&mut ex.output);
        if method == Method::Get && head.content_length > 0 {
            ex.body = Some(body);
        }
        if !head.keep_alive {
            self.closing = true;
            self.reading = false;
        }
    }

    /// Closes the connection once everything owed is written and nothing more
    /// can be owed: a closing response went out, or the peer sent EOF.
    fn settle(&mut self) {
        if self.ex().owes_nothing() && (self.closing || !self.reading) {
            self.closed = true;
        }
    }
}
