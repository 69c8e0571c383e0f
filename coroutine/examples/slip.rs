//! What a blocking std call does to green threads: the sources' "sleep,
//! sync vs async" experiment (ten tasks that each sleep 0.5 s), run as may
//! coroutines. With `may::coroutine::sleep` the ten sleeps overlap: 0.5 s.
//! With `std::thread::sleep`, a blocking call that slipped in, each sleep
//! holds its worker *thread*, and every coroutine queued on that worker
//! waits: 5 s with one worker, 2.5 s with two.
//!
//! ```text
//! cargo run --release -p coroutine --example slip           # one worker
//! cargo run --release -p coroutine --example slip -- 2      # two workers
//! ```

use std::time::{Duration, Instant};

/// How many coroutines, and how long each sleeps (the sources' figures).
const TASKS: usize = 10;
const SLEEP: Duration = Duration::from_millis(500);

fn main() {
    let workers: usize = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("the number of workers"))
        .unwrap_or(1);
    may::config().set_workers(workers).set_worker_pin(false);
    println!("{TASKS} coroutines each sleep {SLEEP:?}, on {workers} may worker(s):");
    for (name, sleep) in [
        (
            "may::coroutine::sleep (parks the coroutine)",
            may::coroutine::sleep as fn(Duration),
        ),
        (
            "std::thread::sleep (blocks the worker)   ",
            std::thread::sleep as fn(Duration),
        ),
    ] {
        let start = Instant::now();
        let handles: Vec<_> = (0..TASKS)
            .map(|_| {
                // SAFETY: may's rules (see the server's spawn): the closure
                // touches no thread-local storage and needs a few hundred
                // bytes of stack. The blocking call in the second run is
                // the point of the experiment: it stalls, it is not unsound.
                unsafe { may::coroutine::spawn(move || sleep(SLEEP)) }
            })
            .collect();
        for handle in handles {
            handle.join().expect("a sleeping coroutine panicked");
        }
        println!(
            "  {name}: all done in {:.2} s",
            start.elapsed().as_secs_f64()
        );
    }
}
