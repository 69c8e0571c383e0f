//! Connection limits: `--max-conns`; a server out of fds (EMFILE); and a
//! thousand-odd clients at once, which `select` (fds below FD_SETSIZE only)
//! must refuse cleanly past its limit while every other model serves them all.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use crate::client::{Client, check, read_some};
use crate::server::Running;
use crate::{Case, Concurrency, Outcome, Target};

pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "max_conns",
            "Past --max-conns a client is refused at once (503 or a close); the held ones carry on, and a freed place is taken again.",
            max_conns,
        ),
        Case::new(
            "out_of_fds",
            "Started with 64 fds and hit by 200 clients, the server answers the ones it holds, refuses the rest cleanly (503 or a close) instead of leaving them hanging, does not spin while out of fds, and serves new clients once old ones leave. (A process per connection has 64 fds per process, and serves all 200.)",
            out_of_fds,
        ),
        Case::new(
            "out_of_fds_root",
            "The same with --root: a client held while the server has no fd left to open a file with gets 503 (try again), never 404 (the file is there); every file request is answered 200 or 503.",
            out_of_fds_root,
        ),
        Case::new(
            "eleven_hundred_connections",
            "1100 clients at once are all served, or past a declared fd limit refused cleanly (503 or a close) with no crash; a client after them is served.",
            eleven_hundred_connections,
        ),
    ]
}

/// How a client that asked `GET /numbers.txt` with `Connection: close` fared.
#[derive(Debug, PartialEq, Eq)]
enum Fate {
    /// A 200 with the file.
    Served,
    /// A 503 saying `Connection: close`, or a close without a byte.
    Refused,
}

/// Sends one closing GET on `client` and reads until the server closes.
fn fate(client: &mut Client) -> Result<Fate, String> {
    // The send may fail if the server already refused and closed: that
    // refusal is still read below.
    let _ = client.send("GET /numbers.txt HTTP/1.1\r\nConnection: close\r\n\r\n");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match read_some(client.stream(), &mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            // A reset after the answer (our GET reached a closed socket).
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => {
                return Err(format!(
                    "read: {e}; had {:?}",
                    String::from_utf8_lossy(&got)
                ));
            }
        }
    }
    let text = String::from_utf8_lossy(&got);
    if got.is_empty() {
        Ok(Fate::Refused)
    } else if text.starts_with("HTTP/1.1 200 ")
        && text.ends_with("zero\none\ntwo\nthree\nfour\nfive\n")
    {
        Ok(Fate::Served)
    } else if text.starts_with("HTTP/1.1 503 ") && text.contains("\r\nConnection: close\r\n") {
        Ok(Fate::Refused)
    } else {
        Err(format!("neither served nor cleanly refused: {text:?}"))
    }
}

/// A new client is served within a couple of seconds (the server may still
/// be closing the last crowd).
fn served_again(server: &Running) -> Outcome {
    let until = Instant::now() + Duration::from_secs(3);
    loop {
        let outcome = Client::connect(server.addr).and_then(|mut c| fate(&mut c));
        match outcome {
            Ok(Fate::Served) => return Ok(()),
            other if Instant::now() >= until => {
                return Err(format!("a client after the crowd: {other:?}"));
            }
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn max_conns(target: &Target) -> Outcome {
    const LIMIT: usize = 8;
    let server = target.start(&["--max-conns", &LIMIT.to_string()])?;
    // A model serving fewer than LIMIT at once never reaches the limit.
    let reaches_limit = match target.concurrency {
        Concurrency::Concurrent => true,
        Concurrency::AtMost(at_once) => at_once >= LIMIT,
    };
    if reaches_limit {
        let mut held = (0..LIMIT)
            .map(|_| Client::connect(server.addr))
            .collect::<Result<Vec<_>, _>>()?;
        for client in &mut held {
            check(client.get("/numbers.txt")?.status == 200, || {
                "a held client".into()
            })?;
        }
        for extra in 0..2 {
            let fate = fate(&mut Client::connect(server.addr)?)?;
            check(fate == Fate::Refused, || {
                format!(
                    "client {} of {LIMIT} allowed was {fate:?}",
                    LIMIT + 1 + extra
                )
            })?;
        }
        for client in &mut held {
            check(client.get("/bytes/3")?.body == b"abc", || {
                "a held client after the refusals".into()
            })?;
        }
        held.pop(); // one place frees up
        served_again(&server)?;
    } else {
        // Each of more clients than the limit, one after another, is
        // served: the limit must not count clients that have left.
        for i in 0..LIMIT + 2 {
            let fate = fate(&mut Client::connect(server.addr)?)?;
            check(fate == Fate::Served, || format!("client {i}: {fate:?}"))?;
        }
    }
    server.finish()
}

fn eleven_hundred_connections(target: &Target) -> Outcome {
    const CLIENTS: usize = 1100;
    let server = target.start(&[])?;
    if let Concurrency::AtMost(_) = target.concurrency {
        // Served in turn: connect, ask, read, close, 1100 times. (All at
        // once, the backlog would overflow while a few are served.)
        for i in 0..CLIENTS {
            let fate = fate(&mut Client::connect(server.addr)?)?;
            check(fate == Fate::Served, || format!("client {i}: {fate:?}"))?;
        }
        return server.finish();
    }
    // All connected at once before anyone asks, so all hold an fd together.
    let mut clients = (0..CLIENTS)
        .map(|_| Client::connect(server.addr))
        .collect::<Result<Vec<_>, _>>()?;
    let mut served = 0;
    for (i, client) in clients.iter_mut().enumerate() {
        match fate(client).map_err(|e| format!("client {i}: {e}"))? {
            Fate::Served => served += 1,
            Fate::Refused if target.fd_limit.is_some() => {}
            Fate::Refused => {
                return Err(format!("client {i} refused; the model declares no limit"));
            }
        }
    }
    match target.fd_limit {
        None => check(served == CLIENTS, || {
            format!("served {served} of {CLIENTS}")
        })?,
        // fds 0-2, the listener and a few of the server's own are below the
        // limit too, so a little under `limit` clients fit.
        Some(limit) => check(served + 32 >= limit && served < limit, || {
            format!("served {served} of {CLIENTS} with an fd limit of {limit}")
        })?,
    }
    drop(clients);
    served_again(&server)?;
    server.finish()
}

/// How a client that asked a keep-alive `GET /numbers.txt` fared: answered
/// (true), refused with a 503 or a close (false), or anything else (an error).
fn held(client: &mut Client) -> Result<bool, String> {
    match client.get("/numbers.txt") {
        Ok(response) if response.status == 200 => Ok(true),
        Ok(response) if response.status == 503 => Ok(false),
        Ok(response) => Err(format!("status {}", response.status)),
        // Refused with a close and no byte (or a reset after it).
        Err(e) if e.starts_with("EOF inside a response head: \"\"") => Ok(false),
        Err(e) if e.contains("reset") => Ok(false),
        Err(e) => Err(e),
    }
}

fn out_of_fds(target: &Target) -> Outcome {
    out_of_fds_with(target, "out_of_fds", &[])
}

fn out_of_fds_root(target: &Target) -> Outcome {
    // `/numbers.txt` as a file on disk: every answer opens it, so every
    // answer needs a free fd.
    let site = super::http::make_site()?;
    let root = site.path().join("root");
    std::fs::write(
        root.join("numbers.txt"),
        "zero\none\ntwo\nthree\nfour\nfive\n",
    )
    .map_err(|e| e.to_string())?;
    out_of_fds_with(
        target,
        "out_of_fds_root",
        &["--root", root.to_str().unwrap_or_default()],
    )
}

/// [`out_of_fds`], with `extra` flags, as the case named `case`.
fn out_of_fds_with(target: &Target, case: &str, extra: &[&str]) -> Outcome {
    const NOFILE: u64 = 64;
    const CLIENTS: usize = 200;
    let server = target.start_with_nofile(extra, NOFILE)?;
    // All connected before anyone asks: the kernel completes the handshakes
    // (the backlog is 1024) whether or not the server has an fd for them.
    let mut clients = (0..CLIENTS)
        .map(|_| Client::connect(server.addr))
        .collect::<Result<Vec<_>, _>>()?;

    if let Concurrency::AtMost(limit) = target.concurrency {
        // A few connections at a time never need many fds: the first
        // `limit` are served while the others wait, then each in turn.
        let rest = clients.split_off(limit.min(CLIENTS));
        let mut first = clients;
        for (i, client) in first.iter_mut().enumerate() {
            check(held(client)?, || format!("held client {i}"))?;
        }
        let mut clients = rest;
        for client in &mut clients {
            client.send("GET /bytes/3 HTTP/1.1\r\nConnection: close\r\n\r\n")?;
        }
        not_spinning(&server, target, case)?; // blocked reading `first`
        drop(first);
        for (i, client) in clients.iter_mut().enumerate() {
            let response = client.response()?;
            check(response.status == 200, || {
                format!("client {}: {}", i + limit, response.status)
            })?;
        }
        return served_again(&server).and_then(|()| server.finish());
    }

    // Let the server take in what it can and turn the rest away.
    std::thread::sleep(Duration::from_millis(300));
    // Out of fds, a server that keeps watching its readable listener spins.
    not_spinning(&server, target, case)?;
    let mut kept = Vec::new();
    for (i, mut client) in clients.into_iter().enumerate() {
        if held(&mut client).map_err(|e| format!("client {i}: {e}"))? {
            kept.push(client);
        }
    }
    if target.process_per_connection {
        // No process holds more than a few fds: nobody needs refusing.
        check(kept.len() == CLIENTS, || {
            format!("{} of {CLIENTS} held, one process each", kept.len())
        })?;
    } else {
        check(!kept.is_empty() && kept.len() < CLIENTS, || {
            format!("{} of {CLIENTS} held with {NOFILE} fds", kept.len())
        })?;
    }
    // The held ones are still served, after all the refusals.
    for (i, client) in kept.iter_mut().enumerate() {
        check(client.get("/bytes/3")?.body == b"abc", || {
            format!("held client {i} after the refusals")
        })?;
    }
    drop(kept); // fds free up: new clients are served again
    served_again(&server)?;
    server.finish()
}

/// Over one second, the server uses less than 10% of a CPU: it sleeps in
/// its wait call. A model that declares it busy-polls is exempt (it always
/// uses a whole CPU), but its figure is printed all the same.
fn not_spinning(server: &Running, target: &Target, case: &str) -> Outcome {
    let before = server.cpu_time()?;
    std::thread::sleep(Duration::from_secs(1));
    let used = server.cpu_time()? - before;
    super::hostile::measured(
        target,
        case,
        format!(
            "{:.0}% of a CPU over 1 s while out of fds",
            used.as_secs_f64() * 100.0
        ),
    );
    if target.spins {
        return Ok(()); // declared: it uses a whole CPU even idle
    }
    check(used < Duration::from_millis(100), || {
        format!("the server used {used:?} of CPU in 1 s while out of fds: it spins")
    })
}
