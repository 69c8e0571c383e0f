//! Reading strace's `-f -ttt -T` output into [`Call`]s, and attributing
//! each call to the client whose connection it used.

use std::collections::HashMap;

use super::Call;

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
        let Some((tid, time, rest)) = split_line(line) else {
            continue;
        };
        last_time = Some(time);
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

/// `PID TIME CALL...`: the thread, the time and the rest. strace pads a
/// short PID to five columns (`5948  1796179612.519605 ...`), so this
/// splits on runs of spaces.
fn split_line(line: &str) -> Option<(u32, f64, &str)> {
    let (tid, rest) = line.trim_start().split_once(' ')?;
    let (time, rest) = rest.trim_start().split_once(' ')?;
    Some((tid.parse().ok()?, time.parse().ok()?, rest.trim_start()))
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
pub(super) fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let from = text.find(open)? + open.len();
    let len = text[from..].find(close)?;
    Some(&text[from..from + len])
}

/// Calls that only read the clock, left out of a recording.
pub(super) const CLOCK_READS: &[&str] = &["clock_gettime", "gettimeofday", "time"];
