//! How long a run's measurements last and how big its holds are: the
//! presets of `--quick`, the everyday run and `--book`.

use std::time::Duration;

use super::{PROCESS_CAP, THREAD_CAP, Variant};

/// How long each measurement lasts, and how big the holds are.
#[derive(Debug, Clone, Copy)]
pub struct Durations {
    /// Each load, echo, wrk, idle or stall run.
    pub run: Duration,
    /// How long a hold lasts once every connection is open.
    pub hold: Duration,
    /// Connections a hold asks of a model that can hold many (an event
    /// loop); a thread per connection is asked for at most 10,000, a
    /// process per connection 1,000.
    pub hold_connections: usize,
    /// Requests of the `ab` scenario.
    pub ab_requests: usize,
    /// Whether this is `--quick` (FD_SETSIZE models then hold too: 300 fit).
    pub quick: bool,
}

impl Durations {
    /// `--quick`: one short round of everything, for CI.
    pub const QUICK: Durations = Durations {
        run: Duration::from_millis(500),
        hold: Duration::from_millis(300),
        hold_connections: 300,
        ab_requests: 1_000,
        quick: true,
    };

    /// The everyday run.
    pub const EVERYDAY: Durations = Durations {
        run: Duration::from_secs(1),
        hold: Duration::from_millis(500),
        hold_connections: 5_000,
        ab_requests: 10_000,
        quick: false,
    };

    /// `--book`: the run the book's figures come from.
    pub const BOOK: Durations = Durations {
        run: Duration::from_secs(2),
        hold: Duration::from_secs(3),
        hold_connections: 19_000,
        ab_requests: 10_000,
        quick: false,
    };

    /// How many connections a hold asks of `variant`.
    pub fn hold_count(&self, variant: &Variant) -> usize {
        let limits = variant.limits;
        let cap = if limits.process_per_connection {
            PROCESS_CAP
        } else if limits.thread_per_connection || variant.static_only {
            THREAD_CAP
        } else {
            usize::MAX
        };
        self.hold_connections.min(cap)
    }
}
