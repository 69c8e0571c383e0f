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
//!
//! Here: [`command`], the calls and events ([`Call`], [`ClientEvent`]) and
//! a [`Recording`] of them with its Perfetto export. `strace` parses the
//! trace and attributes each call to a client; `script` is the
//! choreography and the recorder; `draw` the swimlanes.

use std::collections::HashMap;

use loadgen::Failure;
use serde_json::json;

use crate::cli::TimelineArgs;

mod draw;
mod script;
mod strace;

pub use draw::{LEGEND, client_colour, summary, svg};
pub use script::{choreography, record};
use strace::{CLOCK_READS, between};
pub use strace::{attribute, parse_strace};

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

/// `bench timeline`: records every server (or `--only` some) under the
/// choreography, and draws them all on one time axis.
pub fn command(args: TimelineArgs) -> Result<(), Failure> {
    let workspace = crate::compare::workspace().map_err(|e| format!("cargo metadata: {e}"))?;
    // Every chapter's server, then the references (tokio).
    let known: Vec<&str> = crate::models::all().map(|b| b.name).collect();
    if let Some(unknown) = args.only.iter().find(|o| !known.contains(&o.as_str())) {
        return Err(Failure::Usage(format!(
            "--only {unknown}: no such server; one of {}",
            known.join(", ")
        )));
    }
    crate::compare::build("--bins").map_err(|e| e.to_string())?;
    let out = args
        .out
        .unwrap_or_else(|| workspace.out(args.book, "timeline"));
    let dir = out.join("timelines");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut recordings = Vec::new();
    for binary in known {
        if !args.only.is_empty() && !args.only.iter().any(|o| o == binary) {
            continue;
        }
        eprintln!("recording {binary} under strace");
        let path = workspace.bin_dir.join(binary);
        recordings.push(record(binary, &path, &[], scratch.path())?);
    }
    // One time axis for all: the longest choreography, to the next 100 ms.
    let longest = recordings
        .iter()
        .flat_map(|r| r.events.iter().map(move |e| e.at - r.zero))
        .fold(0.0, f64::max);
    let span = (longest * 10.0).ceil() / 10.0 + 0.05;
    for recording in &recordings {
        let picture = dir.join(format!("{}.svg", recording.server));
        svg(recording, &picture, span)?;
        let json = dir.join(format!("{}.json", recording.server));
        let trace = serde_json::to_string(&recording.perfetto()).map_err(|e| e.to_string())?;
        std::fs::write(&json, trace).map_err(|e| format!("{}: {e}", json.display()))?;
        println!("wrote {}", picture.display());
    }
    print!("{}", summary(&recordings));
    Ok(())
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
