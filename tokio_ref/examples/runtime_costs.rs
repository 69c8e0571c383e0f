//! Two things tokio does that `async_await`'s runtime does not, measured
//! here because no server workload shows them: the cooperative budget and
//! the blocking pool. The chapter includes what this prints:
//!
//! ```text
//! cargo run --release -p tokio_ref --example runtime_costs > docs/src/results/runtime.md
//! ```
//!
//! - **The budget.** One task, the *hog*, waits again and again for a
//!   socket that stays readable (bytes wait in it, never read; the last
//!   hog only peeks at them): each wait is ready at once. Before its loop
//!   it spawns a second task, which only records that it ran. How many
//!   waits does the hog make before the other task gets the thread? On
//!   `async_await`'s runtime with its wait; on tokio's current-thread
//!   runtime with `tokio_ref`'s wait (`readable()`, a deadline, shutdown),
//!   and with tokio's own I/O future (`peek().await`).
//! - **The blocking pool.** A cached `pread` of `www/numbers.txt` (the
//!   whole file, into a 4 KiB buffer), made on the worker, against the same
//!   read sent to tokio's blocking pool with `spawn_blocking` and awaited
//!   (what `tokio::fs` does for each call): microseconds per read, rounds
//!   taken in turn, the median and the spread of the rounds.

use std::cell::Cell;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Write as _};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::FileExt;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Waits the hog makes at most: far past where any budget would stop it.
const CAP: u64 = 1_000_000;

/// The file the blocking pool reads: the site's, cached after the first read.
const NUMBERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/numbers.txt");

/// Reads per round, and rounds, for the blocking pool.
const READS: u32 = 20_000;
const ROUNDS: usize = 5;

fn main() -> io::Result<()> {
    let hand_made = budget_async_await()?;
    let server = budget_tokio(TokioWait::Server)?;
    let peek = budget_tokio(TokioWait::Peek)?;
    let mut out = String::new();
    writeln!(out, "<!-- ANCHOR: budget -->").unwrap();
    writeln!(
        out,
        "| runtime | waits the hog made before the other task ran |"
    )
    .unwrap();
    writeln!(out, "| --- | --- |").unwrap();
    writeln!(
        out,
        "| `async_await`: its wait (`readable(deadline)`) | {} |",
        shown(hand_made)
    )
    .unwrap();
    writeln!(
        out,
        "| tokio: `tokio_ref`'s wait (`readable()`, a deadline, shutdown) | {} |",
        shown(server)
    )
    .unwrap();
    writeln!(
        out,
        "| tokio: its own I/O future, `peek().await` | {} |",
        shown(peek)
    )
    .unwrap();
    writeln!(out, "<!-- ANCHOR_END: budget -->").unwrap();

    let (direct, pooled, threads) = blocking_pool()?;
    let size = std::fs::metadata(NUMBERS)?.len();
    writeln!(out).unwrap();
    writeln!(out, "<!-- ANCHOR: pool -->").unwrap();
    writeln!(out, "| a cached `pread` of `www/numbers.txt` ({size} bytes), one at a time | µs per read (median of {ROUNDS} rounds of {READS}, and spread) |").unwrap();
    writeln!(out, "| --- | --- |").unwrap();
    writeln!(
        out,
        "| on the worker, as `async_await` and `tokio_ref` read `--root` files | {} |",
        spread(&direct)
    )
    .unwrap();
    writeln!(
        out,
        "| sent to the blocking pool (`spawn_blocking`, as `tokio::fs` does) | {} |",
        spread(&pooled)
    )
    .unwrap();
    writeln!(out).unwrap();
    writeln!(
        out,
        "The pool read costs {:.1} times the direct one. Threads in the process: {} before the first `spawn_blocking`, {} after.",
        median(&pooled) / median(&direct),
        threads.0,
        threads.1
    )
    .unwrap();
    writeln!(out, "<!-- ANCHOR_END: pool -->").unwrap();
    io::stdout().write_all(out.as_bytes())
}

/// A count of waits, or that the hog never yielded.
fn shown(waits: u64) -> String {
    match waits {
        CAP => format!("never: it stopped itself at {CAP}"),
        n => n.to_string(),
    }
}

/// A TCP socket with bytes waiting in it (the other end wrote them and
/// they are never read), and the other end, to keep open.
fn readable_socket() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let mut writer = TcpStream::connect(listener.local_addr()?)?;
    let (reader, _) = listener.accept()?;
    writer.write_all(b"never read")?;
    reader.set_nonblocking(true)?;
    Ok((reader, writer))
}

/// The hog on `async_await`'s runtime, with the server's wait (readiness
/// or a deadline).
fn budget_async_await() -> io::Result<u64> {
    let (reader, _writer) = readable_socket()?;
    let waits = Rc::new(Cell::new(0));
    let counted = waits.clone();
    async_await::block_on(async move {
        let reader = async_await::Async::new(reader)?;
        // The first wait finds the socket not yet reported, and parks: only
        // after it is the socket known to be ready, and the count starts.
        reader.readable(None).await;
        let other_ran = Rc::new(Cell::new(false));
        let flag = other_ran.clone();
        async_await::spawn(async move { flag.set(true) });
        let far = Some(Instant::now() + Duration::from_secs(60));
        while !other_ran.get() && counted.get() < CAP {
            // Ready at once: level-triggered, and the readiness is never
            // cleared (nothing is read).
            reader.readable(far).await;
            counted.set(counted.get() + 1);
        }
        Ok(())
    })?;
    Ok(waits.get())
}

/// How the tokio hog waits.
#[derive(Clone, Copy)]
enum TokioWait {
    /// `tokio_ref`'s own wait (`waits::wait`: `readable()`, a deadline,
    /// shutdown); nothing is read, so the socket stays ready.
    Server,
    /// tokio's own I/O future, `TcpStream::peek().await`.
    Peek,
}

/// The hog on tokio's current-thread runtime.
fn budget_tokio(how: TokioWait) -> io::Result<u64> {
    let (reader, _writer) = readable_socket()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let reader = tokio::net::TcpStream::from_std(reader)?;
        // As above: the first wait may park; the count starts after it.
        reader.readable().await?;
        let other_ran = Arc::new(AtomicBool::new(false));
        let flag = other_ran.clone();
        tokio::spawn(async move { flag.store(true, Ordering::Relaxed) });
        let mut stop = tokio_ref::waits::Stop::install();
        let far = Some(Instant::now() + Duration::from_secs(60));
        let mut buf = [0u8; 16];
        let mut waits = 0;
        while !other_ran.load(Ordering::Relaxed) && waits < CAP {
            match how {
                TokioWait::Server => {
                    tokio_ref::waits::wait(reader.readable(), far, &mut stop).await;
                }
                TokioWait::Peek => drop(reader.peek(&mut buf).await?),
            }
            waits += 1;
        }
        Ok(waits)
    })
}

/// µs per read of each round on the worker, and through the pool; the
/// process's threads before and after.
type Pool = (Vec<f64>, Vec<f64>, (usize, usize));

/// µs per read on the worker, and through `spawn_blocking`, a round of
/// each in turn; and the process's threads before and after.
fn blocking_pool() -> io::Result<Pool> {
    let file = Arc::new(File::open(NUMBERS)?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let before = threads();
    let (mut direct, mut pooled) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        direct.push(runtime.block_on(async {
            let started = Instant::now();
            let mut buf = [0u8; 4096];
            for _ in 0..READS {
                file.read_at(&mut buf, 0)?;
            }
            Ok::<_, io::Error>(per_read(started))
        })?);
        pooled.push(runtime.block_on(async {
            let started = Instant::now();
            for _ in 0..READS {
                let file = file.clone();
                tokio::task::spawn_blocking(move || {
                    let mut buf = [0u8; 4096];
                    file.read_at(&mut buf, 0)
                })
                .await??;
            }
            Ok::<_, io::Error>(per_read(started))
        })?);
    }
    Ok((direct, pooled, (before, threads())))
}

/// µs per read since `started`.
fn per_read(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1e6 / f64::from(READS)
}

/// The threads of this process.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count)
}

/// The median of `rounds`.
fn median(rounds: &[f64]) -> f64 {
    let mut sorted = rounds.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// The median, and the smallest and largest round.
fn spread(rounds: &[f64]) -> String {
    let low = rounds.iter().copied().fold(f64::INFINITY, f64::min);
    let high = rounds.iter().copied().fold(0.0, f64::max);
    format!("{:.2} ({low:.2}–{high:.2})", median(rounds))
}
