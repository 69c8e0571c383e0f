//! Counting: errors by kind, latency histograms, and how reports print.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Failed requests, by what went wrong. A failure is counted once, in the
/// first kind that applies, and never as a success.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Errors {
    /// The connection could not be made (refused, unreachable).
    pub connect: u64,
    /// Reading failed (reset), or the server closed with a request unanswered.
    pub read: u64,
    /// Writing the request failed (reset, broken pipe).
    pub write: u64,
    /// No complete answer within `--timeout` of sending.
    pub timeout: u64,
    /// The response was not 200, or its head was malformed.
    pub status: u64,
    /// The body was shorter than `Content-Length` (EOF inside it), or bytes
    /// came that no request asked for (a body longer than announced).
    pub body: u64,
}

impl Errors {
    /// All errors together.
    pub fn total(&self) -> u64 {
        self.connect + self.read + self.write + self.timeout + self.status + self.body
    }

    /// Adds another thread's counts.
    pub fn add(&mut self, other: &Errors) {
        self.connect += other.connect;
        self.read += other.read;
        self.write += other.write;
        self.timeout += other.timeout;
        self.status += other.status;
        self.body += other.body;
    }
}

/// A latency histogram in microseconds, from 1 µs to 10 minutes, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid bounds")
}

/// Records one latency, clamped into the histogram's range.
pub fn record(histogram: &mut Histogram<u64>, latency: Duration) {
    let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    histogram.saturating_record(micros.max(1));
}

/// Latency percentiles for a report, in microseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// 99.9th percentile.
    pub p999_us: u64,
    /// The slowest.
    pub max_us: u64,
    /// The mean.
    pub mean_us: f64,
}

impl Percentiles {
    /// Reads the percentiles off a histogram.
    pub fn of(histogram: &Histogram<u64>) -> Percentiles {
        Percentiles {
            p50_us: histogram.value_at_quantile(0.5),
            p90_us: histogram.value_at_quantile(0.9),
            p99_us: histogram.value_at_quantile(0.99),
            p999_us: histogram.value_at_quantile(0.999),
            max_us: histogram.max(),
            mean_us: histogram.mean(),
        }
    }

    /// One line: `p50 1.2ms  p90 ...`.
    pub fn line(&self) -> String {
        format!(
            "p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            micros(self.p50_us),
            micros(self.p90_us),
            micros(self.p99_us),
            micros(self.p999_us),
            micros(self.max_us)
        )
    }
}

/// A duration in µs, printed with a sensible unit.
pub fn micros(us: u64) -> String {
    match us {
        0..1_000 => format!("{us}us"),
        1_000..1_000_000 => format!("{:.2}ms", us as f64 / 1e3),
        _ => format!("{:.2}s", us as f64 / 1e6),
    }
}

/// Bytes, printed as MB (10^6, as wrk does).
pub fn megabytes(bytes: u64) -> String {
    format!("{:.2}MB", bytes as f64 / 1e6)
}
