//! How far a long run is, and how long it has left: a bar on a terminal,
//! and in every line it logs, `[ 37/420  3:10, ~31:40 left]`, so a log
//! file says it too.
//!
//! The time left is the mean time of a step so far times the steps to go.
//! The steps are taken in rounds, every server in turn, so after the first
//! few the mean is a fair one.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// The progress of a run of `total` steps (cells, or climbs of a sweep).
pub struct Progress {
    /// Steps in the whole run.
    total: u64,
    /// Steps done.
    done: u64,
    /// When the run began (the build included).
    started: Instant,
    /// When the first step began: the mean counts from here, not from the
    /// build.
    measuring: Instant,
    /// The bar; indicatif draws nothing when stderr is not a terminal.
    bar: ProgressBar,
}

impl Progress {
    /// A run of `total` steps that began at `started`.
    pub fn new(total: u64, started: Instant) -> Progress {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{wide_bar} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress {
            total,
            done: 0,
            started,
            measuring: Instant::now(),
            bar,
        }
    }

    /// One step done: logs `line` after the progress, and moves the bar.
    pub fn step(&mut self, line: &str) {
        self.done = (self.done + 1).min(self.total);
        let text = format!("[{}] {line}", self.status());
        self.bar.suspend(|| eprintln!("{text}"));
        self.bar.set_position(self.done);
        self.bar.set_message(self.status());
    }

    /// Logs a line that is not a step (a failure's reason).
    pub fn note(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    /// `37/420  3:10, ~31:40 left`.
    pub fn status(&self) -> String {
        let width = self.total.to_string().len();
        let left = remaining(self.measuring.elapsed(), self.done, self.total);
        format!(
            "{:>width$}/{}  {}, ~{} left",
            self.done,
            self.total,
            clock(self.started.elapsed()),
            clock(left)
        )
    }

    /// Takes the bar off the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// The time left after `done` of `total` steps took `spent`.
fn remaining(spent: Duration, done: u64, total: u64) -> Duration {
    match done {
        0 => Duration::ZERO,
        done => spent.mul_f64(total.saturating_sub(done) as f64 / done as f64),
    }
}

/// `3:10`, or `1:02:05` past the hour.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s / 3600 {
        0 => format!("{}:{:02}", s / 60, s % 60),
        h => format!("{h}:{:02}:{:02}", s % 3600 / 60, s % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The time left is the mean step's time the steps to go.
    #[test]
    fn time_left_follows_the_mean_step() {
        let secs = Duration::from_secs;
        assert_eq!(remaining(secs(60), 10, 40), secs(180));
        assert_eq!(remaining(secs(60), 40, 40), secs(0));
        assert_eq!(remaining(secs(0), 0, 40), secs(0));
        assert_eq!(clock(secs(190)), "3:10");
        assert_eq!(clock(secs(3725)), "1:02:05");
    }

    /// Each step's line carries how far the run is.
    #[test]
    fn a_step_counts() {
        let mut progress = Progress::new(4, Instant::now());
        progress.step("one");
        assert!(
            progress.status().starts_with("1/4  0:00, ~"),
            "{}",
            progress.status()
        );
        progress.finish();
    }
}
