//! What a new process costs next to a new thread, measured: the forking
//! chapter's table. Each round starts a child that does nothing and waits
//! for it (`fork` + `_exit` + `waitpid`), or a thread that does nothing and
//! joins it (`clone3` + exit + futex wake). fork copies the page tables of
//! the whole address space, so it is measured twice: from this small process,
//! and after touching 256 MiB of heap (a server with a big cache, say).
//!
//! ```text
//! cargo run --release -p forking --example spawn_cost
//! cargo run --release -p forking --example spawn_cost -- --json
//! ```
//!
//! With `--json` it prints the figures as one JSON object: `bench compare`
//! runs it that way for the forking chapter's table.

use std::time::{Duration, Instant};

use nix::sys::wait::waitpid;
use nix::unistd::ForkResult;

/// Rounds per measurement (fewer for the slow fork of a big process).
const ROUNDS: usize = 2000;
const BIG_ROUNDS: usize = 200;

/// Median time of `rounds` runs of `once`, after a warm-up.
fn median(rounds: usize, mut once: impl FnMut()) -> Duration {
    for _ in 0..10 {
        once();
    }
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            once();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[rounds / 2]
}

/// fork, the child exits at once, the parent waits for it.
fn fork_and_wait() {
    // SAFETY: this example has no other thread while it forks (threads are
    // measured after every fork, each joined before the next), so the child
    // cannot inherit a lock held by another thread; the child calls only
    // _exit, which is async-signal-safe.
    match unsafe { nix::unistd::fork() } {
        Ok(ForkResult::Child) => {
            // SAFETY: _exit ends the child at once; nothing runs after it.
            unsafe { nix::libc::_exit(0) }
        }
        Ok(ForkResult::Parent { child }) => {
            waitpid(child, None).expect("waitpid");
        }
        Err(err) => panic!("fork: {err}"),
    }
}

/// A thread with a 64 KiB stack (threaded's default) that does nothing, joined.
fn spawn_and_join() {
    std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(|| {})
        .expect("spawn")
        .join()
        .expect("join");
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    if !json {
        println!("medians of {ROUNDS} rounds ({BIG_ROUNDS} for the 256 MiB fork):");
    }
    let small = rss_kib();
    let fork_small = median(ROUNDS, fork_and_wait);
    // Touch 256 MiB, one byte a page, so every page is mapped.
    let mut heap = vec![0u8; 256 << 20];
    for page in heap.chunks_mut(4096) {
        page[0] = 1;
    }
    let big = rss_kib();
    let fork_big = median(BIG_ROUNDS, fork_and_wait);
    drop(heap);
    let thread = median(ROUNDS, spawn_and_join);
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    if json {
        println!(
            "{{\"rounds\": {ROUNDS}, \"big_rounds\": {BIG_ROUNDS}, \"thread_us\": {:.2}, \
             \"fork_small_us\": {:.2}, \"fork_small_rss_kib\": {small}, \
             \"fork_big_us\": {:.2}, \"fork_big_rss_kib\": {big}}}",
            us(thread),
            us(fork_small),
            us(fork_big)
        );
        return;
    }
    println!(
        "  fork + _exit + waitpid, RSS {:>7} KiB: {:7.1} us",
        small,
        us(fork_small)
    );
    println!(
        "  fork + _exit + waitpid, RSS {:>7} KiB: {:7.1} us",
        big,
        us(fork_big)
    );
    println!(
        "  thread spawn + join, 64 KiB stack:      {:7.1} us",
        us(thread)
    );
    println!(
        "  fork / thread: {:.1}x (small process), {:.1}x (256 MiB)",
        us(fork_small) / us(thread),
        us(fork_big) / us(thread)
    );
}
