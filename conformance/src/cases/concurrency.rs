//! Many clients: concurrent requests, keep-alive clients side by side,
//! overlapping delays, a client that resets mid-response, the idle timeout.
//! Where the model serves one connection at a time, the cases check that
//! limit instead (see [`crate::Concurrency`]).

use std::time::{Duration, Instant};

use crate::client::{Client, check};
use crate::{Case, Concurrency, Outcome, Target};

pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "fifty_concurrent_clients",
            "50 clients connecting at once, one request each, all get the right answer.",
            fifty_concurrent_clients,
        ),
        Case::new(
            "keepalive_clients",
            "Keep-alive clients are served side by side, or (at most N at once) client N+1 waits until one of the N leaves.",
            keepalive_clients,
        ),
        Case::new(
            "delays_overlap",
            "Two /delay/500 on two connections overlap, or (one connection at a time) add up to 1 s.",
            delays_overlap,
        ),
        Case::new(
            "reset_mid_response",
            "A client that resets in the middle of a 16 MiB response harms nothing; the next is served.",
            reset_mid_response,
        ),
        Case::new(
            "idle_timeout",
            "A keep-alive connection idle past --idle-timeout is closed quietly, not before.",
            idle_timeout,
        ),
    ]
}

fn fifty_concurrent_clients(target: &Target) -> Outcome {
    let server = target.start(&[])?;
    let addr = server.addr;
    let clients: Vec<_> = (0..50)
        .map(|i| {
            std::thread::spawn(move || -> Outcome {
                let mut client = Client::connect(addr)?;
                client.send(format!(
                    "GET /bytes/{i} HTTP/1.1\r\nConnection: close\r\n\r\n"
                ))?;
                let response = client.response()?;
                check(response.body.len() == i, || {
                    format!("client {i}: {} bytes", response.body.len())
                })?;
                client.expect_closed().map(|_| ())
            })
        })
        .collect();
    for client in clients {
        client
            .join()
            .map_err(|_| "client thread panicked".to_string())??;
    }
    server.finish()
}

fn keepalive_clients(target: &Target) -> Outcome {
    let server = target.start(&[])?;
    match target.concurrency {
        Concurrency::Concurrent => {
            // All 50 connected and idle at once, then each asks again: a
            // server that could not hold them all would stall here.
            let mut clients = (0..50)
                .map(|_| Client::connect(server.addr))
                .collect::<Result<Vec<_>, _>>()?;
            for client in &mut clients {
                client.get("/numbers.txt")?;
            }
            for client in &mut clients {
                let response = client.get("/bytes/10")?;
                check(response.body.len() == 10, || {
                    "second request on a held connection".into()
                })?;
            }
        }
        Concurrency::AtMost(limit) => {
            // `limit` keep-alive clients take every place the model has...
            let mut held = Vec::new();
            for i in 0..limit {
                let mut client = Client::connect(server.addr)?;
                check(client.get("/numbers.txt")?.status == 200, || {
                    format!("held client {i} of {limit}")
                })?;
                held.push(client);
            }
            // ...so the next one waits, however idle they are...
            let mut next = Client::connect(server.addr)?;
            next.send("GET /numbers.txt HTTP/1.1\r\n\r\n")?;
            let early = next.read_within(Duration::from_millis(500))?;
            check(early.is_empty(), || {
                format!(
                    "client {} was served while {limit} held every place",
                    limit + 1
                )
            })?;
            // ...until one of them leaves.
            drop(held.pop());
            let response = next.response()?;
            check(response.status == 200, || {
                format!("status {}", response.status)
            })?;
        }
    }
    server.finish()
}

fn delays_overlap(target: &Target) -> Outcome {
    let server = target.start(&[])?;
    let addr = server.addr;
    let start = Instant::now();
    let clients: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(move || -> Outcome {
                let mut client = Client::connect(addr)?;
                client.send("GET /delay/500 HTTP/1.1\r\nConnection: close\r\n\r\n")?;
                let response = client.response()?;
                check(response.text() == "delayed 500 ms\n", || response.text())
            })
        })
        .collect();
    for client in clients {
        client
            .join()
            .map_err(|_| "client thread panicked".to_string())??;
    }
    let elapsed = start.elapsed();
    match target.concurrency {
        Concurrency::AtMost(1) => check(elapsed >= Duration::from_millis(1000), || {
            format!("took {elapsed:?}: one at a time adds up")
        })?,
        _ => check(elapsed < Duration::from_millis(900), || {
            format!("took {elapsed:?}: the delays did not overlap")
        })?,
    }
    server.finish()
}

fn reset_mid_response(target: &Target) -> Outcome {
    let server = target.start(&[])?;
    let mut client = Client::connect(server.addr)?;
    client.send("GET /bytes/16777216 HTTP/1.1\r\n\r\n")?;
    let start = client.read_within(Duration::from_secs(5))?;
    check(!start.is_empty(), || "no response started".into())?;
    client.reset()?;
    let response = Client::connect(server.addr)?.get("/numbers.txt")?;
    check(response.status == 200, || {
        format!("after a reset, status {}", response.status)
    })?;
    server.finish()
}

fn idle_timeout(target: &Target) -> Outcome {
    let server = target.start(&["--idle-timeout", "1"])?;
    let mut client = Client::connect(server.addr)?;
    client.get("/numbers.txt")?;
    let start = Instant::now();
    client.expect_closed()?;
    let elapsed = start.elapsed();
    check(elapsed >= Duration::from_millis(900), || {
        format!("closed after only {elapsed:?}")
    })?;
    check(elapsed < Duration::from_millis(3000), || {
        format!("closed only after {elapsed:?}")
    })?;
    server.finish()
}
