//! `bench timeline`: who waits, drawn from a real run. One short
//! choreography of four clients (A to D) runs against a server started under
//! `strace -f -ttt -T`, which records every system call of every thread and
//! process with its start time and its duration. The calls are drawn as a
//! swimlane per thread or process, coloured by the client each served, with
//! the clients' own events on lanes of their own, on one time axis for every
//! server; the same recording is written as a Chrome trace-event (Perfetto)
//! file to zoom into.
//!
//! Why strace: it sees every thread and every forked child (`-f`), gives
//! each call's entry time and duration (`-ttt -T`), and needs nothing of the
//! server, so the same recorder serves all twelve. Its cost is that it slows
//! every call down (each is stopped and read by the tracer): the timeline
//! shows who waits for what, in what order, not how fast. The servers'
//! `--trace` has no durations, and `perf trace` misses forked children's
//! early calls.

use std::collections::HashMap;
use std::fmt::Write as _;

use plotters::prelude::*;
use serde_json::json;

/// One system call of the server, as strace saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The thread (or process) that made it.
    pub tid: u32,
    /// The call's name: `epoll_wait`, `read`, ...
    pub name: String,
    /// When it was entered, in seconds since the epoch (strace's `-ttt`).
    pub start: f64,
    /// How long it took, in seconds (strace's `-T`).
    pub duration: f64,
    /// The fd it was made on, when its first argument (or `epoll_ctl`'s
    /// third) is one.
    pub fd: Option<i32>,
    /// Its arguments, as strace prints them.
    pub args: String,
    /// What it returned, as strace prints it (`1`, `-1 EAGAIN (...)`).
    pub result: String,
    /// The client it served (`A` to `D`), once attributed.
    pub client: Option<char>,
}

/// Something a client did, at a wall-clock time.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientEvent {
    /// `A` to `D`.
    pub client: char,
    /// `connect`, `send`, `answer`.
    pub what: String,
    /// Seconds since the epoch.
    pub at: f64,
}

/// Reads strace's `-f -ttt -T` output: one [`Call`] per finished call (an
/// `<unfinished ...>` line and its `<... resumed>` line are one call).
/// Signals and exits are left out; a call still waiting when the trace
/// ends (the server was stopped in it) lasts until the trace's last line.
pub fn parse_strace(text: &str) -> Vec<Call> {
    let mut calls = Vec::new();
    // tid -> (name, start, the arguments seen so far)
    let mut pending: HashMap<u32, (String, f64, String)> = HashMap::new();
    let mut last_time = None;
    for line in text.lines() {
        // `PID TIME CALL...`; strace pads a short PID to five columns
        // (`5948  1796179612.519605 ...`), so split on runs of spaces.
        let Some((tid, rest)) = line.trim_start().split_once(' ') else {
            continue;
        };
        let Some((time, rest)) = rest.trim_start().split_once(' ') else {
            continue;
        };
        let (Ok(tid), Ok(time)) = (tid.parse::<u32>(), time.parse::<f64>()) else {
            continue;
        };
        last_time = Some(time);
        let rest = rest.trim_start();
        if rest.starts_with("---") || rest.starts_with("+++") {
            continue;
        }
        if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            let Some((name, args)) = head.split_once('(') else {
                continue;
            };
            pending.insert(tid, (name.to_string(), time, args.to_string()));
            continue;
        }
        let Some((body, duration)) = split_duration(rest) else {
            continue;
        };
        let (name, start, args, result) = if let Some(resumed) = rest.strip_prefix("<... ") {
            let Some((name, _)) = resumed.split_once(' ') else {
                continue;
            };
            let Some((_, start, before)) = pending.remove(&tid) else {
                continue;
            };
            let Some((_, tail)) = body.split_once("resumed>") else {
                continue;
            };
            let (after, result) = tail.rsplit_once(" = ").unwrap_or((tail, ""));
            (name.to_string(), start, before + after, result.to_string())
        } else {
            let Some((name, tail)) = body.split_once('(') else {
                continue;
            };
            let (args, result) = tail.rsplit_once(" = ").unwrap_or((tail, ""));
            (name.to_string(), time, args.to_string(), result.to_string())
        };
        calls.push(Call {
            fd: fd_argument(&name, &args),
            tid,
            name,
            start,
            duration,
            args,
            result: result.trim().to_string(),
            client: None,
        });
    }
    let end = calls
        .iter()
        .map(|c| c.start + c.duration)
        .chain(last_time)
        .fold(0.0, f64::max);
    for (tid, (name, start, args)) in pending {
        calls.push(Call {
            fd: fd_argument(&name, &args),
            tid,
            name,
            start,
            duration: (end - start).max(0.0),
            args,
            result: "(still waiting when the trace ended)".to_string(),
            client: None,
        });
    }
    calls.sort_by(|a, b| a.start.total_cmp(&b.start));
    calls
}

/// `... = 1 <0.000015>`: the line without its duration, and the duration.
fn split_duration(line: &str) -> Option<(&str, f64)> {
    let (body, tail) = line.rsplit_once(" <")?;
    let duration = tail.strip_suffix('>')?.parse().ok()?;
    Some((body, duration))
}

/// The fd a call is made on: its first argument for the calls on one fd,
/// the third for `epoll_ctl` (`epoll_ctl(6, EPOLL_CTL_ADD, 7, ...)`).
fn fd_argument(name: &str, args: &str) -> Option<i32> {
    let nth = match name {
        "read" | "write" | "recvfrom" | "sendto" | "recvmsg" | "sendmsg" | "readv" | "writev"
        | "close" | "shutdown" | "setsockopt" | "ioctl" | "fcntl" | "sendfile" => 0,
        "epoll_ctl" => 2,
        _ => return None,
    };
    args.split(',').nth(nth)?.trim().parse().ok()
}

/// Which client each call served. An `accept` returns a client's fd, and
/// prints its port (`sin_port=htons(40586)`), which `ports` maps to the
/// client; from then on a call on that fd, in that process, is the
/// client's, until the fd is closed. A thread shares its process's fds
/// (`clone` with `CLONE_THREAD`); a forked child starts with a copy.
pub fn attribute(calls: &mut [Call], ports: &HashMap<u16, char>) {
    let mut process: HashMap<u32, u32> = HashMap::new(); // tid -> its process
    let mut fds: HashMap<u32, HashMap<i32, char>> = HashMap::new(); // process -> fd -> client
    for call in calls.iter_mut() {
        let pid = *process.entry(call.tid).or_insert(call.tid);
        let table = fds.entry(pid).or_default();
        match call.name.as_str() {
            "accept" | "accept4" => {
                let port = between(&call.args, "sin_port=htons(", ")").and_then(|p| p.parse().ok());
                let fd = call.result.parse::<i32>().ok();
                if let (Some(port), Some(fd)) = (port, fd)
                    && let Some(&client) = ports.get(&port)
                {
                    table.insert(fd, client);
                    call.client = Some(client);
                }
            }
            "clone" | "clone3" | "fork" | "vfork" => {
                if let Ok(child) = call.result.parse::<u32>() {
                    if call.args.contains("CLONE_THREAD") {
                        process.insert(child, pid); // a thread: this process's fds
                    } else {
                        let copy = table.clone(); // a child process: a copy
                        process.insert(child, child);
                        fds.insert(child, copy);
                    }
                }
            }
            _ => {
                if let Some(fd) = call.fd {
                    call.client = table.get(&fd).copied();
                    if call.name == "close" {
                        table.remove(&fd);
                    }
                }
            }
        }
    }
}

/// The text between `open` and the next `close` after it.
fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let from = text.find(open)? + open.len();
    let len = text[from..].find(close)?;
    Some(&text[from..from + len])
}

/// Calls that only read the clock, left out of a recording.
const CLOCK_READS: &[&str] = &["clock_gettime", "gettimeofday", "time"];

/// A recording: the server's calls and the clients' events, both in
/// seconds since the epoch, and when the choreography started.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The server's name (its binary and flags).
    pub server: String,
    /// When client A connected: the time axis's zero.
    pub zero: f64,
    /// Every call of every thread and process of the server.
    pub calls: Vec<Call>,
    /// Every client event.
    pub events: Vec<ClientEvent>,
    /// Thread names, where the server set one (`prctl(PR_SET_NAME)`).
    pub names: HashMap<u32, String>,
}

impl Recording {
    /// Builds a recording from strace's text and the clients' events:
    /// parses, attributes each call to its client, keeps the calls from
    /// just before the first client event on, and names the threads.
    pub fn new(
        server: &str,
        strace: &str,
        events: Vec<ClientEvent>,
        ports: &HashMap<u16, char>,
    ) -> Recording {
        let mut calls = parse_strace(strace);
        attribute(&mut calls, ports);
        let zero = events.iter().map(|e| e.at).fold(f64::INFINITY, f64::min);
        let mut names = HashMap::new();
        // The first call of all is the server's own, on its main thread.
        if let Some(first) = calls.first() {
            names.insert(first.tid, "main".to_string());
        }
        for call in &calls {
            if call.name == "prctl"
                && let Some(name) = between(&call.args, "PR_SET_NAME, \"", "\"")
            {
                names.insert(call.tid, name.to_string());
            }
        }
        // Start-up is not the story: from 20 ms before the first client on.
        // A call that was waiting then (an accept, an epoll_wait) is kept.
        // Clock reads are left out (the recorder does not trace them): on
        // some clock sources they are system calls, thousands of them in a
        // `/cpu` burn, and they say nothing about who waits.
        calls.retain(|c| {
            c.start + c.duration >= zero - 0.020 && !CLOCK_READS.contains(&c.name.as_str())
        });
        Recording {
            server: server.to_string(),
            zero,
            calls,
            events,
            names,
        }
    }

    /// The lanes, top to bottom: each thread or process that made a call
    /// in the window, in the order it first did.
    pub fn lanes(&self) -> Vec<u32> {
        let mut lanes: Vec<u32> = Vec::new();
        for call in &self.calls {
            if !lanes.contains(&call.tid) {
                lanes.push(call.tid);
            }
        }
        // The main thread first, whenever it came.
        lanes.sort_by_key(|tid| self.names.get(tid).is_none_or(|n| n != "main"));
        lanes
    }

    /// A lane's label: its thread's name if it set one, its id otherwise.
    pub fn lane_name(&self, tid: u32) -> String {
        match self.names.get(&tid) {
            Some(name) => format!("{name} ({tid})"),
            None => format!("tid {tid}"),
        }
    }

    /// The recording as Chrome trace events (`ph: X` complete events, times
    /// in µs from the earliest call kept), for ui.perfetto.dev: one
    /// process for the server with a thread per lane, one for the clients.
    pub fn perfetto(&self) -> serde_json::Value {
        // Times from the earliest call kept (a wait can have begun long
        // before the first client): trace viewers want no negative times.
        let origin = self.calls.iter().map(|c| c.start).fold(self.zero, f64::min);
        let us = |t: f64| ((t - origin) * 1e6).round();
        let mut events = Vec::new();
        for tid in self.lanes() {
            events.push(
                json!({"ph": "M", "name": "thread_name", "pid": 1, "tid": tid,
                               "args": {"name": self.lane_name(tid)}}),
            );
        }
        events.push(json!({"ph": "M", "name": "process_name", "pid": 1,
                           "args": {"name": self.server}}));
        events.push(json!({"ph": "M", "name": "process_name", "pid": 2,
                           "args": {"name": "clients"}}));
        for call in &self.calls {
            let client = call.client.map(String::from).unwrap_or_default();
            events.push(
                json!({"ph": "X", "name": call.name, "pid": 1, "tid": call.tid,
                               "ts": us(call.start), "dur": (call.duration * 1e6).round(),
                               "args": {"fd": call.fd, "result": call.result, "client": client}}),
            );
        }
        for event in &self.events {
            events.push(
                json!({"ph": "i", "s": "t", "name": format!("{} {}", event.client, event.what),
                               "pid": 2, "tid": event.client as u32, "ts": us(event.at)}),
            );
        }
        json!({"traceEvents": events, "displayTimeUnit": "ms"})
    }
}

/// A client's colour, the same in every timeline.
pub fn client_colour(client: Option<char>) -> RGBColor {
    match client {
        Some('A') => RGBColor(214, 39, 40),
        Some('B') => RGBColor(31, 119, 180),
        Some('C') => RGBColor(44, 160, 44),
        Some('D') => RGBColor(255, 127, 14),
        _ => RGBColor(150, 150, 150),
    }
}

/// What the choreography's clients do, for the legend under each timeline.
pub const LEGEND: &[(char, &str)] = &[
    ('A', "GET /delay/300"),
    ('B', "a request head in 3 pieces"),
    ('C', "GET /numbers.txt, twice"),
    ('D', "GET /cpu/100000"),
];

/// Draws `recording` as an SVG swimlane chart at `path`, `span` seconds
/// wide from the choreography's start (the same span for every server, so
/// two timelines can be laid side by side): the clients' lanes on top, a
/// lane per server thread or process below, a bar for each call that took
/// visible time (its name on it where it fits), a tick for a quick one.
pub fn svg(recording: &Recording, path: &std::path::Path, span: f64) -> Result<(), String> {
    let lanes = recording.lanes();
    let (left, top, lane_h, width) = (150i32, 40i32, 26i32, 1100i32);
    let clients = ['A', 'B', 'C', 'D'];
    let rows = clients.len() as i32 + lanes.len() as i32;
    let height = (top + rows * lane_h + 60) as u32;
    let failed = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let root = SVGBackend::new(path, (width as u32, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| failed(&e))?;
    let x = |t: f64| left + (((t - recording.zero) / span) * f64::from(width - left - 20)) as i32;
    let font = ("sans-serif", 13).into_font();
    let small = ("sans-serif", 10).into_font();
    let title = format!("{}: who waits, on one time axis", recording.server);
    root.draw(&Text::new(title, (10, 10), ("sans-serif", 16).into_font()))
        .map_err(|e| failed(&e))?;
    // The time axis: a tick every 50 ms.
    let bottom = top + rows * lane_h;
    let mut ms = 0;
    while f64::from(ms) / 1000.0 <= span {
        let at = x(recording.zero + f64::from(ms) / 1000.0);
        root.draw(&PathElement::new(
            vec![(at, top), (at, bottom)],
            RGBColor(230, 230, 230),
        ))
        .map_err(|e| failed(&e))?;
        root.draw(&Text::new(
            format!("{ms} ms"),
            (at - 12, bottom + 6),
            small.clone(),
        ))
        .map_err(|e| failed(&e))?;
        ms += 50;
    }
    // The clients' lanes: a dot per event, named.
    for (row, client) in clients.iter().enumerate() {
        let y = top + row as i32 * lane_h + lane_h / 2;
        let colour = client_colour(Some(*client));
        let what = LEGEND
            .iter()
            .find(|(c, _)| c == client)
            .map_or("", |(_, w)| w);
        root.draw(&Text::new(
            format!("client {client}"),
            (8, y - 7),
            font.color(&colour),
        ))
        .map_err(|e| failed(&e))?;
        root.draw(&Text::new(what.to_string(), (8, y + 5), small.clone()))
            .map_err(|e| failed(&e))?;
        // Each event a dot; its label above or below the lane, taking turns
        // when two are close, so that neither hides the other.
        // Each label goes above the lane, or below it, wherever it does not
        // run into one already placed; failing both, further right.
        let mut placed: Vec<(bool, i32, i32)> = Vec::new(); // (below, from, to)
        for event in recording.events.iter().filter(|e| e.client == *client) {
            let at = x(event.at);
            root.draw(&Circle::new((at, y), 4, colour.filled()))
                .map_err(|e| failed(&e))?;
            let width = 6 * event.what.len() as i32;
            let free = |below: bool, from: i32| {
                !placed
                    .iter()
                    .any(|&(b, f, t)| b == below && from < t + 4 && f < from + width)
            };
            let mut from = at + 5;
            let below = loop {
                match (free(false, from), free(true, from)) {
                    (true, _) => break false,
                    (false, true) => break true,
                    (false, false) => from += 10,
                }
            };
            placed.push((below, from, from + width));
            let label_y = if below { y + 5 } else { y - 14 };
            root.draw(&Text::new(
                event.what.clone(),
                (from, label_y),
                small.clone(),
            ))
            .map_err(|e| failed(&e))?;
        }
    }
    // The server's lanes: a bar per call, coloured by the client it served.
    for (row, tid) in lanes.iter().enumerate() {
        let row = clients.len() as i32 + row as i32;
        let (y0, y1) = (top + row * lane_h + 4, top + (row + 1) * lane_h - 4);
        root.draw(&Text::new(
            recording.lane_name(*tid),
            (8, y0 + 4),
            font.clone(),
        ))
        .map_err(|e| failed(&e))?;
        for call in recording.calls.iter().filter(|c| c.tid == *tid) {
            let (a, b) = (
                x(call.start).max(left),
                x(call.start + call.duration).max(left),
            );
            let colour = client_colour(call.client);
            if b - a >= 3 {
                root.draw(&Rectangle::new(
                    [(a, y0), (b, y1)],
                    colour.mix(0.55).filled(),
                ))
                .map_err(|e| failed(&e))?;
                if b - a > 8 * call.name.len() as i32 {
                    root.draw(&Text::new(
                        call.name.clone(),
                        (a + 3, y0 + 3),
                        small.clone(),
                    ))
                    .map_err(|e| failed(&e))?;
                }
            } else {
                root.draw(&PathElement::new(
                    vec![(a, y0), (a, y1)],
                    colour.stroke_width(1),
                ))
                .map_err(|e| failed(&e))?;
            }
        }
    }
    root.present().map_err(|e| failed(&e))
}

/// What `bench timeline` prints at the end: a line per server with its
/// lanes and calls.
pub fn summary(recordings: &[Recording]) -> String {
    let mut out = String::new();
    for r in recordings {
        let attributed = r.calls.iter().filter(|c| c.client.is_some()).count();
        let _ = writeln!(
            out,
            "- `{}`: {} lanes, {} calls ({} on a client's fd)",
            r.server,
            r.lanes().len(),
            r.calls.len(),
            attributed
        );
    }
    out
}

/// Seconds since the epoch, now: the clock strace's `-ttt` uses.
fn wall() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// One client's script: at each planned time (ms from the start), what it
/// does. Every client closes after its last answer, so that the one-at-a-
/// time servers move on to the next.
enum Step {
    /// Connect.
    Connect,
    /// Send these bytes.
    Send(&'static str, &'static str),
    /// Read one whole response.
    Answer,
}

/// The choreography (see [`LEGEND`]): A asks `/delay/300`; 50 ms later B
/// sends a request head in three pieces 50 ms apart; at 200 ms C asks
/// `/numbers.txt`; at 250 ms D asks `/cpu/100000` (100 ms of CPU) and at
/// 260 ms (or once its first answer is in) C asks again.
const SCRIPT: &[(char, &[(u64, Step)])] = &[
    (
        'A',
        &[
            (0, Step::Connect),
            (
                0,
                Step::Send(
                    "GET /delay/300",
                    "GET /delay/300 HTTP/1.1\r\nHost: t\r\n\r\n",
                ),
            ),
            (0, Step::Answer),
        ],
    ),
    (
        'B',
        &[
            (50, Step::Connect),
            (50, Step::Send("piece 1", "GET /numb")),
            (100, Step::Send("piece 2", "ers.txt HTTP/1.1\r\nHo")),
            (150, Step::Send("piece 3", "st: t\r\n\r\n")),
            (150, Step::Answer),
        ],
    ),
    (
        'C',
        &[
            (200, Step::Connect),
            (
                200,
                Step::Send(
                    "GET /numbers.txt",
                    "GET /numbers.txt HTTP/1.1\r\nHost: t\r\n\r\n",
                ),
            ),
            (200, Step::Answer),
            (
                260,
                Step::Send("GET again", "GET /numbers.txt HTTP/1.1\r\nHost: t\r\n\r\n"),
            ),
            (260, Step::Answer),
        ],
    ),
    (
        'D',
        &[
            (250, Step::Connect),
            (
                250,
                Step::Send(
                    "GET /cpu/100000",
                    "GET /cpu/100000 HTTP/1.1\r\nHost: t\r\n\r\n",
                ),
            ),
            (250, Step::Answer),
        ],
    ),
];

/// Runs the choreography against `addr`: the clients' events, and which
/// local port is which client (for [`attribute`]).
pub fn choreography(
    addr: std::net::SocketAddr,
) -> Result<(Vec<ClientEvent>, HashMap<u16, char>), String> {
    use conformance::client::Client;
    let start = std::time::Instant::now();
    let (done, results) = std::sync::mpsc::channel();
    for &(client, steps) in SCRIPT {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut events = Vec::new();
            let mut port = None;
            let mut stream: Option<Client> = None;
            let outcome = (|| {
                for (at, step) in steps {
                    let due = start + std::time::Duration::from_millis(*at);
                    std::thread::sleep(due.saturating_duration_since(std::time::Instant::now()));
                    match step {
                        Step::Connect => {
                            let connected = Client::connect(addr)?;
                            port = connected.stream().local_addr().ok().map(|a| a.port());
                            stream = Some(connected);
                            events.push((client, "connect".to_string(), wall()));
                        }
                        Step::Send(what, bytes) => {
                            let Some(c) = stream.as_mut() else {
                                return Err("no connection".to_string());
                            };
                            c.send(bytes)?;
                            events.push((client, what.to_string(), wall()));
                        }
                        Step::Answer => {
                            let Some(c) = stream.as_mut() else {
                                return Err("no connection".to_string());
                            };
                            let response = c.response()?;
                            events.push((client, format!("{} answered", response.status), wall()));
                        }
                    }
                }
                Ok(())
            })();
            let _ = done.send((client, port, events, outcome));
        });
    }
    drop(done);
    let mut events = Vec::new();
    let mut ports = HashMap::new();
    for (client, port, got, outcome) in results {
        outcome.map_err(|e| format!("client {client}: {e}"))?;
        if let Some(port) = port {
            ports.insert(port, client);
        }
        events.extend(
            got.into_iter()
                .map(|(client, what, at)| ClientEvent { client, what, at }),
        );
    }
    events.sort_by(|a, b| a.at.total_cmp(&b.at));
    Ok((events, ports))
}

/// Runs `binary` (with `args`) under `strace -f -ttt -T`, plays the
/// choreography against it, stops it with SIGTERM, and reads the trace.
pub fn record(
    name: &str,
    binary: &std::path::Path,
    args: &[String],
    scratch: &std::path::Path,
) -> Result<Recording, String> {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let trace = scratch.join(format!("{}.strace", name.replace(' ', "_")));
    let mut strace = Command::new("strace")
        // The clock reads are not traced at all (`--seccomp-bpf` lets an
        // untraced call run at full speed): a `/cpu` burn reads the clock
        // in its loop, and stopping at each read would stretch the burn.
        .args(["-f", "-ttt", "-T", "-qq", "--seccomp-bpf"])
        .arg(format!("--trace=!{}", CLOCK_READS.join(",")))
        .arg("-o")
        .arg(&trace)
        .arg(binary)
        .args(args)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("strace: {e} (apt-get install strace)"))?;
    let stdout = strace.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("{name}: {e}"))?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("{name}: no `listening on` line: {line:?}"))?;
    // Let start-up settle: its calls are not the story, and under strace
    // it is slow (may's stack pool is hundreds of traced mmaps). Settled is
    // when the trace has stopped growing for 200 ms (at most 10 s).
    let size = || std::fs::metadata(&trace).map_or(0, |m| m.len());
    let (mut last, mut quiet) = (size(), std::time::Instant::now());
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while quiet.elapsed() < std::time::Duration::from_millis(200)
        && std::time::Instant::now() < give_up
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
        if size() != last {
            (last, quiet) = (size(), std::time::Instant::now());
        }
    }
    let played = choreography(addr);
    std::thread::sleep(std::time::Duration::from_millis(100));
    if let Some(&server) = crate::procfs::children(strace.id()).first() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(server as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while strace.try_wait().map_err(|e| e.to_string())?.is_none() {
        if std::time::Instant::now() > deadline {
            let _ = strace.kill();
            let _ = strace.wait();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let (events, ports) = played?;
    let text = std::fs::read_to_string(&trace).map_err(|e| format!("{}: {e}", trace.display()))?;
    Ok(Recording::new(name, &text, events, &ports))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A few lines of a real `strace -f -ttt -T` of `epoll`: a wait that
    /// spans a client's arrival, its accept, its read and its answer.
    const STRACE: &str = "\
18663 1796178415.426723 prctl(PR_SET_NAME, \"signals\" <unfinished ...>
18663 1796178415.426817 <... prctl resumed>) = 0 <0.000076>
18662 1796178415.427471 epoll_wait(6,  <unfinished ...>
18663 1796178415.427827 gettid()        = 18663 <0.000058>
5948  1796178415.427900 getpid()        = 5948 <0.000010>
18662 1796178415.925135 <... epoll_wait resumed>[{events=EPOLLIN, data={u32=4294967295, u64=18446744073709551615}}], 1024, -1) = 1 <0.497634>
18662 1796178415.925312 accept4(3, {sa_family=AF_INET, sin_port=htons(40586), sin_addr=inet_addr(\"127.0.0.1\")}, [128 => 16], SOCK_CLOEXEC) = 7 <0.000040>
18662 1796178415.925518 epoll_ctl(6, EPOLL_CTL_ADD, 7, {events=EPOLLIN, data={u32=0, u64=0}}) = 0 <0.000018>
18662 1796178415.925576 accept4(3, 0x7ffc2f2af9d8, [128], SOCK_CLOEXEC) = -1 EAGAIN (Resource temporarily unavailable) <0.000026>
18662 1796178415.925705 recvfrom(7, \"GET /delay/50 HTTP/1.1\\r\\nHost: 12\"..., 16384, 0, NULL, NULL) = 86 <0.000019>
18662 1796178415.927465 sendto(7, \"HTTP/1.1 200 OK\\r\\n\"..., 94, MSG_NOSIGNAL, NULL, 0) = 94 <0.000153>
18662 1796178415.927700 epoll_wait(6,  <unfinished ...>
18662 1796178415.928000 --- SIGTERM {si_signo=SIGTERM} ---
18662 1796178415.929000 +++ exited with 0 +++
";

    fn recording() -> Recording {
        let ports = HashMap::from([(40586, 'A')]);
        let events = vec![ClientEvent {
            client: 'A',
            what: "connect".into(),
            at: 1796178415.7,
        }];
        Recording::new("epoll", STRACE, events, &ports)
    }

    /// An unfinished call and its resumed line are one call, with the
    /// entry time of the first and the duration of the second; signals,
    /// exits and a call that never returned are left out.
    #[test]
    fn strace_lines_become_calls() {
        let calls = parse_strace(STRACE);
        let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "prctl",
                "epoll_wait",
                "gettid",
                "getpid",
                "accept4",
                "epoll_ctl",
                "accept4",
                "recvfrom",
                "sendto",
                "epoll_wait"
            ]
        );
        let wait = &calls[1];
        assert_eq!(
            (wait.tid, wait.start, wait.duration),
            (18662, 1796178415.427471, 0.497634)
        );
        assert_eq!(wait.result, "1");
        assert_eq!(calls[3].tid, 5948); // a short PID, padded by strace
        assert_eq!(calls[4].result, "7");
        assert_eq!(calls[5].fd, Some(7)); // epoll_ctl's third argument
        assert_eq!(calls[7].fd, Some(7));
        assert!(calls[6].result.starts_with("-1 EAGAIN"));
        // Still waiting when the trace ended: it lasts to the last line.
        let last = calls.last().unwrap();
        assert!(
            (last.start + last.duration - 1796178415.929).abs() < 1e-6,
            "{last:?}"
        );
    }

    /// The accept names the client by its port; the calls on its fd are
    /// that client's, and the listener's and the epoll fd's are no one's.
    #[test]
    fn calls_are_attributed_to_the_client_whose_fd_they_use() {
        let r = recording();
        let client = |name: &str, nth: usize| {
            r.calls
                .iter()
                .filter(|c| c.name == name)
                .nth(nth)
                .unwrap()
                .client
        };
        assert_eq!(client("accept4", 0), Some('A'));
        assert_eq!(client("accept4", 1), None);
        assert_eq!(client("recvfrom", 0), Some('A'));
        assert_eq!(client("sendto", 0), Some('A'));
        assert_eq!(client("epoll_ctl", 0), Some('A'));
        assert_eq!(client("epoll_wait", 0), None);
    }

    /// The drawing has a lane per thread, the clients' lanes, the wait as
    /// a labelled bar; the Perfetto file has an event per call.
    #[test]
    fn the_timeline_is_drawn_and_written_for_perfetto() {
        let r = recording();
        // The wait began before the window, and is kept: it spans it. The
        // signal thread's calls all ended before: no lane.
        assert_eq!(r.lanes(), vec![18662]);
        assert_eq!(r.names.get(&18663).map(String::as_str), Some("signals"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("epoll.svg");
        svg(&r, &path, 0.5).unwrap();
        let drawn = std::fs::read_to_string(&path).unwrap();
        for text in [
            "client A",
            "client D",
            "tid 18662",
            "epoll_wait",
            "GET /delay/300",
        ] {
            assert!(drawn.contains(text), "no {text:?} in the SVG: {drawn}");
        }
        let trace = r.perfetto();
        let events = trace["traceEvents"].as_array().unwrap();
        let complete = events.iter().filter(|e| e["ph"] == "X").count();
        assert_eq!(complete, r.calls.len());
        let sendto = events.iter().find(|e| e["name"] == "sendto").unwrap();
        assert_eq!(sendto["args"]["client"], "A");
        assert_eq!(sendto["dur"], 153.0);
        assert!(
            events
                .iter()
                .all(|e| e["ts"].as_f64().is_none_or(|ts| ts >= 0.0))
        );
    }
}
