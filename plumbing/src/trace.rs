//! `--trace`: one line per kernel interaction on stderr, stamped with the
//! seconds since start and the thread, so a student can watch the model work:
//!
//! ```text
//! [  0.001234 main] accept fd=5 peer=127.0.0.1:51234
//! [  0.001301 main] read fd=5: 78 bytes
//! ```
//!
//! A forking model names its children ([`name_process`]), so their lines say
//! whose they are: `[  0.002001 child 4242]`.
//!
//! Each line goes out in one `write(2)` on fd 2, without std's stderr lock:
//! lines from threads and from forked processes never mix, and a child forked
//! while another thread was tracing cannot inherit that lock held (a forked
//! child has only the thread that forked, so nobody would ever release it).

use std::fmt::{self, Write as _};
use std::os::fd::AsFd;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Whether `--trace` is on. Read on every trace point, so an atomic load.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// When tracing started: the zero of the timestamps.
static START: OnceLock<Instant> = OnceLock::new();

/// This process's name in trace lines, when it is a forked child.
static PROCESS: OnceLock<String> = OnceLock::new();

/// Names this process in its trace lines (`child 4242`, `worker 4243`):
/// called once in a forked child, where every thread would otherwise be
/// `main` like its parent's.
pub fn name_process(name: String) {
    let _ = PROCESS.set(name);
}

/// Turns tracing on or off.
pub fn enable(on: bool) {
    START.get_or_init(Instant::now);
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether tracing is on.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Writes one trace line. Use [`trace!`](crate::trace!), which formats only when tracing is on.
pub fn line(args: fmt::Arguments<'_>) {
    let elapsed = START.get_or_init(Instant::now).elapsed().as_secs_f64();
    let thread = std::thread::current();
    let name = match PROCESS.get() {
        Some(process) => process.as_str(),
        None => thread.name().unwrap_or("thread"),
    };
    let mut text = String::with_capacity(128);
    let _ = writeln!(text, "[{elapsed:10.6} {name}] {args}");
    // One write(2), no lock. A closed stderr must not take the server down:
    // the line is dropped; a short write (a full pipe) loses its tail.
    let _ = nix::unistd::write(std::io::stderr().as_fd(), text.as_bytes());
}

/// Like `eprintln!`, but only under `--trace`, and with a timestamp.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)*) => {
        if $crate::trace::enabled() {
            $crate::trace::line(format_args!($($arg)*));
        }
    };
}
