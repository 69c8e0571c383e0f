//! The threaded server: accept in the main thread, serve each connection
//! with the blocking server's pull loop on a thread of its own.

use std::io;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::thread;

use crossbeam::channel;
use crossbeam::sync::WaitGroup;
use plumbing::Server;
use plumbing::admission::{Place, Places, refuse};
use plumbing::blocking_accept::BlockingAcceptor;
use plumbing::trace;
use protocol::Service;

use crate::Threads;

/// Serves until shutdown: a thread per connection, or a pool with `--pool`.
pub fn serve(server: Server, threads: Threads) -> io::Result<()> {
    let Server {
        listener,
        service,
        max_conns,
        ..
    } = server;
    let acceptor = BlockingAcceptor::new(listener, &service)?;
    let places = Places::new(max_conns);
    match threads.pool {
        None => thread_per_connection(acceptor, &service, &places, threads.stack_size),
        Some(workers) => pool(acceptor, &service, &places, workers, threads.stack_size),
    }
}

// ANCHOR: thread_per_connection
/// Accepts clients and starts a thread for each.
fn thread_per_connection(
    acceptor: BlockingAcceptor,
    service: &Arc<Service>,
    places: &Places,
    stack_size: usize,
) -> io::Result<()> {
    // Every connection thread holds a clone; `wait` below returns once
    // all of them are gone.
    let running = WaitGroup::new();
    // Each turn blocks in accept(2) until a client arrives; the loop ends
    // at shutdown.
    for stream in acceptor {
        let Some(place) = places.take() else {
            refuse(stream, service, "--max-conns reached");
            continue;
        };
        let fd = stream.as_raw_fd();
        let (service, running) = (service.clone(), running.clone());
        trace!("spawn thread for fd={fd}, stack {stack_size} bytes");
        let spawned = thread::Builder::new()
            .name(format!("fd {fd}"))
            .stack_size(stack_size)
            .spawn(move || {
                let mut buf = vec![0u8; blocking::READ_BUF];
                serve_one(stream, &service, &mut buf, place);
                drop(running);
            });
        // The kernel refused a thread (EAGAIN: a thread or memory limit).
        // The closure, and the client's socket in it, is dropped: that
        // client sees a close, and the next one may find room again.
        if let Err(err) = spawned {
            trace!("spawn failed for fd={fd}: {err}; closing it");
        }
    }
    // Shutdown: responses in flight finish; plumbing ends the process when
    // its grace is over if a thread still waits on an idle client.
    running.wait();
    Ok(())
}
// ANCHOR_END: thread_per_connection

// ANCHOR: pool
/// Starts `workers` threads, then accepts clients and hands each to a
/// free one.
fn pool(
    acceptor: BlockingAcceptor,
    service: &Arc<Service>,
    places: &Places,
    workers: u16,
    stack_size: usize,
) -> io::Result<()> {
    // Capacity 0: a rendezvous. `send` returns only when a worker has taken
    // the client, so no queue builds up in this process: while every worker
    // is busy, the main thread holds the one client it has just accepted,
    // blocked in `send`, and the clients after it wait in the kernel's
    // listen backlog.
    let (hand_over, take) = channel::bounded::<(TcpStream, Place)>(0);
    let mut threads = Vec::new();
    for i in 0..workers {
        let (take, service) = (take.clone(), service.clone());
        let worker = thread::Builder::new()
            .name(format!("worker {i}"))
            .stack_size(stack_size)
            .spawn(move || {
                let mut buf = vec![0u8; blocking::READ_BUF];
                // Blocks in `recv` until a client is handed over; ends when
                // the main thread drops its end (shutdown).
                for (stream, place) in take {
                    trace!("worker {i} takes fd={}", stream.as_raw_fd());
                    serve_one(stream, &service, &mut buf, place);
                }
            })?;
        threads.push(worker);
    }
    drop(take);
    for stream in acceptor {
        let Some(place) = places.take() else {
            refuse(stream, service, "--max-conns reached");
            continue;
        };
        trace!("hand fd={} to the pool", stream.as_raw_fd());
        // Blocks while all workers are busy: the pool's one limit.
        if hand_over.send((stream, place)).is_err() {
            break; // every worker is gone: nobody to serve anything
        }
    }
    drop(hand_over);
    for worker in threads {
        let _ = worker.join();
    }
    Ok(())
}
// ANCHOR_END: pool

/// One connection, start to end, on the calling thread: the blocking
/// server's pull loop and close, then its place under `--max-conns` is
/// given back. A failed connection (reset, timeout) ends only itself.
fn serve_one(stream: TcpStream, service: &Arc<Service>, buf: &mut [u8], place: Place) {
    let _ = blocking::serve_client(stream, service, buf);
    drop(place);
}
