//! `--trace`: one line per kernel interaction on stderr, stamped with the
//! seconds since start and the thread, so a student can watch the model work:
//!
//! ```text
//! [  0.001234 main] accept fd=5 peer=127.0.0.1:51234
//! [  0.001301 main] read fd=5: 78 bytes
//! ```

use std::fmt;
use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Whether `--trace` is on. Read on every trace point, so an atomic load.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// When tracing started: the zero of the timestamps.
static START: OnceLock<Instant> = OnceLock::new();

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
    let name = thread.name().unwrap_or("thread");
    // A closed stderr must not take the server down: the line is dropped.
    let _ = writeln!(std::io::stderr().lock(), "[{elapsed:10.6} {name}] {args}");
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
