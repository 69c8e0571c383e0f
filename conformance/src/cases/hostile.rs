//! Hostile clients: the ones that read nothing, send without reading,
//! reset in the middle, sit idle by the thousand, or are there when the
//! server is told to stop. Every model must survive each the same way:
//! bounded memory, no crash, no panic, every other client still served.
//! (Slowloris, the idle timeout and running out of fds are in
//! `bad_input`, `concurrency` and `limits`.)
//!
//! The cases that measure something (memory, CPU) print it on a line of
//! its own, `measured: TARGET :: CASE: ...`, so a run of the suite is also
//! the table of what each model spent.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::echo::{byte_at, read_back};
use super::http::pattern_byte;
use crate::client::{Client, check};
use crate::server::Running;
use crate::{Case, Concurrency, Outcome, Target};

pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "slow_reader",
            "A client that asks for 16 MiB and reads nothing for 5 s costs the server at most 1 MiB, others are served meanwhile, and the whole body arrives intact when it reads.",
            slow_reader,
        ),
        Case::new(
            "echo_backpressure",
            "An echo client that sends 64 MiB without reading is stopped (the server stops reading it), costs at most 1 MiB, and gets every byte back in order once it reads.",
            echo_backpressure,
        ),
        Case::new(
            "resets_everywhere",
            "Clients that reset mid-request, right after a request, and in a pipelined batch kill nothing: a keep-alive client from before is still served, and so is a new one.",
            resets_everywhere,
        ),
        Case::new(
            "thousand_idle",
            "1,000 connections that send nothing, then normal clients are still answered (a model with N places: the N+1th waits until one leaves).",
            thousand_idle,
        ),
        Case::new(
            "shutdown_under_load",
            "SIGTERM while 8 clients keep asking: exit 0 within 3 s, every response whole or the connection closed cleanly, no process left behind.",
            shutdown_under_load,
        ),
    ]
}

/// The most a hostile client may cost the server: it must not buffer what
/// it cannot send or what it has not parsed (the protocol stops at 64 KiB
/// unsent; the rest is socket buffers, which are the kernel's, not in the
/// process's memory).
const MAX_GROWTH: u64 = 1024 * 1024;

/// Prints a figure a case measured, on a line of its own.
pub(super) fn measured(target: &Target, case: &str, what: String) {
    eprintln!("measured: {} :: {case}: {what}", target.name);
}

/// What the server had before a hostile client came: its memory and RSS.
struct Before {
    memory: u64,
    rss: u64,
}

impl Before {
    fn take(server: &Running) -> Result<Before, String> {
        Ok(Before {
            memory: server.memory()?,
            rss: server.rss()?,
        })
    }
}

/// What a hostile client that is stalled costs the server: its CPU over
/// the next `window` (waiting on a full socket is no work: under 10% of a
/// core, unless the model declares it spins), and its memory growth since
/// `before` (at most [`MAX_GROWTH`]). Both printed, the RSS growth beside.
fn stalled_cost(
    server: &Running,
    target: &Target,
    case: &str,
    before: &Before,
    window: Duration,
) -> Outcome {
    let cpu_before = server.cpu_time()?;
    std::thread::sleep(window);
    let cpu = server.cpu_time()?.saturating_sub(cpu_before);
    let cpu_percent = cpu.as_secs_f64() / window.as_secs_f64() * 100.0;
    let growth = server.memory()?.saturating_sub(before.memory);
    let rss_growth = server.rss()?.saturating_sub(before.rss);
    measured(
        target,
        case,
        format!(
            "memory growth {} KiB (bound {} KiB), RSS growth {} KiB, CPU {cpu_percent:.0}% over {:.0} s stalled",
            growth / 1024,
            MAX_GROWTH / 1024,
            rss_growth / 1024,
            window.as_secs_f64()
        ),
    );
    check(growth <= MAX_GROWTH, || {
        format!(
            "the server grew by {} KiB for one hostile client (bound {} KiB)",
            growth / 1024,
            MAX_GROWTH / 1024
        )
    })?;
    check(target.spins || cpu_percent < 10.0, || {
        format!("the server used {cpu_percent:.0}% of a CPU while the client was stalled")
    })
}

/// Whether the model can serve one more client while `held` clients hold
/// places: a concurrent model always can; a model with N places, only
/// while fewer than N are held.
pub(super) fn has_room(target: &Target, held: usize) -> bool {
    match target.concurrency {
        Concurrency::Concurrent => true,
        Concurrency::AtMost(places) => held < places,
    }
}

/// A new client, asked for `/numbers.txt` while `held` clients hold places:
/// answered at once if the model has room, else not answered within 500 ms
/// (the declared limit), and handed back to be answered later.
pub(super) fn other_client(
    server: &Running,
    target: &Target,
    held: usize,
) -> Result<Option<Client>, String> {
    let mut client = Client::connect(server.addr)?;
    // `Connection: close`: once answered, it leaves its place to the next.
    client.send("GET /numbers.txt HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")?;
    if has_room(target, held) {
        let response = client.response()?;
        check(response.status == 200, || {
            format!("another client got {} meanwhile", response.status)
        })?;
        return Ok(None);
    }
    let early = client.read_within(Duration::from_millis(500))?;
    check(early.is_empty(), || {
        "another client was served while every place was held".into()
    })?;
    Ok(Some(client))
}

fn slow_reader(target: &Target) -> Outcome {
    const SIZE: usize = 16 * 1024 * 1024;
    let server = target.start(&[])?;
    // Large answers first, on four connections at once (so that every
    // worker of a model with several gets one), so that the server's
    // one-off allocations (buffers, a pool, a thread's first pages) are made.
    let mut warm = (0..4)
        .map(|_| Client::connect(server.addr))
        .collect::<Result<Vec<_>, _>>()?;
    for client in &mut warm {
        client.send("GET /bytes/1048576 HTTP/1.1\r\nConnection: close\r\n\r\n")?;
    }
    for client in &mut warm {
        client.response()?;
    }
    drop(warm);
    let before = Before::take(&server)?;
    let mut slow = Client::connect(server.addr)?;
    slow.send(format!("GET /bytes/{SIZE} HTTP/1.1\r\nHost: test\r\n\r\n"))?;
    std::thread::sleep(Duration::from_secs(1));
    let waiting = other_client(&server, target, 1)?;
    std::thread::sleep(Duration::from_secs(1));
    // Three more seconds of reading nothing: 5 s in all.
    stalled_cost(
        &server,
        target,
        "slow_reader",
        &before,
        Duration::from_secs(3),
    )?;
    let response = slow.response()?;
    check(response.body.len() == SIZE, || {
        format!("{} of {SIZE} bytes", response.body.len())
    })?;
    let wrong = (0..SIZE).find(|&i| response.body[i] != pattern_byte(i));
    check(wrong.is_none(), || format!("wrong byte at {wrong:?}"))?;
    drop(slow);
    if let Some(mut client) = waiting {
        let response = client.response()?;
        check(response.status == 200, || {
            format!("the waiting client got {}", response.status)
        })?;
    }
    server.finish()
}

fn echo_backpressure(target: &Target) -> Outcome {
    const SIZE: usize = 64 * 1024 * 1024;
    const CHUNK: usize = 64 * 1024;
    let server = target.start(&["--proto", "echo"])?;
    // 4 MiB there and back first, so the server's one-off allocations (its
    // buffers, uring's shared pool of receive buffers) are made.
    let mut warm = TcpStream::connect(server.addr).map_err(|e| e.to_string())?;
    let mut back = vec![0u8; CHUNK];
    for _ in 0..64 {
        warm.write_all(&back).map_err(|e| e.to_string())?;
        warm.read_exact(&mut back).map_err(|e| e.to_string())?;
    }
    drop(warm);
    let before = Before::take(&server)?;

    let stream = TcpStream::connect(server.addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let written = Arc::new(AtomicUsize::new(0));
    let count = written.clone();
    let sender = std::thread::spawn(move || -> Outcome {
        let mut chunk = vec![0u8; CHUNK];
        for start in (0..SIZE).step_by(CHUNK) {
            for (k, b) in chunk.iter_mut().enumerate() {
                *b = byte_at(start + k);
            }
            writer
                .write_all(&chunk)
                .map_err(|e| format!("sending at {start}: {e}"))?;
            count.store(start + CHUNK, Ordering::Relaxed);
        }
        Ok(())
    });
    // The client reads nothing: the socket buffers on both sides fill, the
    // server stops reading, and the sender stalls well short of 64 MiB.
    std::thread::sleep(Duration::from_secs(2));
    stalled_cost(
        &server,
        target,
        "echo_backpressure",
        &before,
        Duration::from_secs(1),
    )?;
    let stalled_at = written.load(Ordering::Relaxed);
    measured(
        target,
        "echo_backpressure",
        format!("the sender stalled after {} KiB", stalled_at / 1024),
    );
    check(stalled_at < SIZE, || {
        "all 64 MiB went in without a byte read back: something buffers it all".into()
    })?;
    // Now read: every byte comes back, in order.
    read_back(&stream, SIZE, || CHUNK)?;
    sender
        .join()
        .map_err(|_| "the sender panicked".to_string())??;
    server.finish()
}

fn resets_everywhere(target: &Target) -> Outcome {
    let server = target.start(&[])?;
    // A keep-alive client from before the resets, where the model has a
    // place to spare for it (a model with one place serves the resetting
    // clients one after another instead).
    let mut kept = match has_room(target, 1) {
        true => {
            let mut client = Client::connect(server.addr)?;
            client.get("/numbers.txt")?;
            Some(client)
        }
        false => None,
    };
    // Mid-request: half a head, then a reset.
    let mut client = Client::connect(server.addr)?;
    client.send("GET /numbers.txt HTTP/1.1\r\nHost: te")?;
    std::thread::sleep(Duration::from_millis(100));
    client.reset()?;
    // Right after a request, before reading its answer.
    let mut client = Client::connect(server.addr)?;
    client.send("GET /bytes/1048576 HTTP/1.1\r\n\r\n")?;
    client.reset()?;
    // In a pipelined batch: 50 requests, the first answer read, then a reset.
    let mut client = Client::connect(server.addr)?;
    client.send("GET /bytes/10000 HTTP/1.1\r\n\r\n".repeat(50))?;
    client.response()?;
    client.reset()?;
    // A reset during a delay the server still owes.
    let mut client = Client::connect(server.addr)?;
    client.send("GET /delay/200 HTTP/1.1\r\n\r\n")?;
    std::thread::sleep(Duration::from_millis(50));
    client.reset()?;
    std::thread::sleep(Duration::from_millis(300));
    if let Some(client) = &mut kept {
        check(client.get("/bytes/3")?.body == b"abc", || {
            "the keep-alive client from before the resets".into()
        })?;
    }
    drop(kept);
    let response = Client::connect(server.addr)?.get("/numbers.txt")?;
    check(response.status == 200, || {
        format!("after the resets, status {}", response.status)
    })?;
    server.finish()
}

fn thousand_idle(target: &Target) -> Outcome {
    const IDLE: usize = 1000;
    let server = target.start(&[])?;
    let idle = (0..IDLE)
        .map(|_| Client::connect(server.addr))
        .collect::<Result<Vec<_>, _>>()?;
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let mut waiting = Vec::new();
    for _ in 0..10 {
        waiting.extend(other_client(&server, target, IDLE)?);
    }
    if waiting.is_empty() {
        measured(
            target,
            "thousand_idle",
            format!(
                "10 clients answered in {:?} beside {IDLE} idle ones",
                start.elapsed()
            ),
        );
    }
    // The idle ones are still open (their timeout is 60 s): one of them
    // can still ask, where the model has a place for it.
    let mut idle = idle;
    if has_room(target, 0) && waiting.is_empty() {
        check(idle[IDLE / 2].get("/bytes/3")?.body == b"abc", || {
            "an idle connection, after the others were served".into()
        })?;
    }
    // A model with N places: the clients that waited are served once the
    // idle ones leave.
    idle.clear();
    for client in &mut waiting {
        let response = client.response()?;
        check(response.status == 200, || {
            format!("a waiting client got {}", response.status)
        })?;
    }
    server.finish()
}

/// How one load client's loop ended.
enum Ended {
    /// The server closed the connection between two responses, or refused
    /// a new one: the clean ways to stop.
    Cleanly,
    /// A response that started and did not finish, or a wrong one.
    Badly(String),
}

/// Asks `/numbers.txt` again and again on keep-alive connections (a new one
/// when the server closes), until the server is gone or `until`; counts
/// whole answers.
fn keep_asking(addr: std::net::SocketAddr, until: Instant, answered: &AtomicUsize) -> Ended {
    while Instant::now() < until {
        let Ok(mut client) = Client::connect(addr) else {
            return Ended::Cleanly; // the listener is closed
        };
        loop {
            if client
                .send("GET /numbers.txt HTTP/1.1\r\nHost: test\r\n\r\n")
                .is_err()
            {
                break; // closed before the request: clean
            }
            match client.response() {
                Ok(response) if response.status == 200 && !response.body.is_empty() => {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                Ok(response) => return Ended::Badly(format!("status {}", response.status)),
                // Closed (EOF or reset) before a byte of the answer came:
                // between two responses, which is clean.
                Err(e)
                    if client.nothing_of_a_response()
                        && (e.starts_with("EOF inside a response head") || e.contains("reset")) =>
                {
                    break;
                }
                // A timeout, or an answer cut short.
                Err(e) => return Ended::Badly(e),
            }
            if Instant::now() >= until {
                return Ended::Cleanly;
            }
        }
    }
    Ended::Cleanly
}

fn shutdown_under_load(target: &Target) -> Outcome {
    let mut server = target.start(&[])?;
    let addr = server.addr;
    let until = Instant::now() + Duration::from_secs(8);
    let answered = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let answered = answered.clone();
            std::thread::spawn(move || keep_asking(addr, until, &answered))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let children = server.children();
    let before = answered.load(Ordering::Relaxed);
    check(before > 0, || "no answer before the SIGTERM".into())?;
    server.signal(Signal::SIGTERM)?;
    let signalled = Instant::now();
    let status = server.wait_exit(Duration::from_secs(3))?;
    let took = signalled.elapsed();
    check(status.is_some_and(|s| s.success()), || {
        format!("exit after SIGTERM under load: {status:?} after {took:?}")
    })?;
    for client in clients {
        match client
            .join()
            .map_err(|_| "a load client panicked".to_string())?
        {
            Ended::Cleanly => {}
            Ended::Badly(why) => return Err(format!("a client saw a broken answer: {why}")),
        }
    }
    measured(
        target,
        "shutdown_under_load",
        format!(
            "{before} answers before SIGTERM, exit 0 after {took:?}, {} processes of its own",
            children.len()
        ),
    );
    // Every process the server started is gone with it (or, at most, a
    // zombie its new parent has yet to collect): nothing keeps serving.
    for pid in children {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().next().map(str::to_string))
            });
        check(matches!(state.as_deref(), None | Some("Z")), || {
            format!("process {pid} of the server outlived it (state {state:?})")
        })?;
    }
    Ok(())
}
