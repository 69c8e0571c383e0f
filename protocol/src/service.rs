//! What a server serves: the protocol, the site, the idle timeout and the
//! CPU-burn calibration. One `Service` is shared by every connection.

use std::hint::black_box;
use std::time::Duration;

use crate::site::Site;

/// Which protocol the connections speak (`--proto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// The HTTP/1.1 subset of SPEC §3.
    Http,
    /// Raw echo, SPEC §4.
    Echo,
}

/// The configuration every connection of a server shares.
#[derive(Debug, Clone)]
pub struct Service {
    /// HTTP or echo.
    pub proto: Proto,
    /// The files served for HTTP.
    pub site: Site,
    /// How long a connection may move no byte before it is closed quietly.
    pub idle_timeout: Duration,
    /// Iterations of [`burn`] that take one microsecond on this machine,
    /// measured by the server at start ([`calibrate`] needs a clock, and the
    /// protocol has none). `/cpu/<us>` runs `us * spins_per_us` iterations:
    /// real CPU work, not a sleep, so it really occupies the thread.
    pub spins_per_us: u64,
}

impl Service {
    /// A service with the defaults of SPEC §2 and no CPU calibration
    /// (`/cpu` then answers at once): what tests start from.
    pub fn new(proto: Proto, site: Site) -> Service {
        Service {
            proto,
            site,
            idle_timeout: crate::limits::DEFAULT_IDLE_TIMEOUT,
            spins_per_us: 0,
        }
    }
}

/// Busy work that the optimiser cannot remove: `iterations` rounds of a
/// multiply-add whose result goes through `black_box`.
pub fn burn(iterations: u64) {
    let mut x = 0u64;
    for i in 0..iterations {
        x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i));
    }
}

/// How many [`burn`] iterations take a microsecond, given a way to time a run
/// of `iterations` (the caller brings the clock). The fastest of five runs of
/// 2 ms or so is taken, since interference only ever makes a run slower.
pub fn calibrate(time_burn: impl Fn(u64) -> Duration) -> u64 {
    const ITERATIONS: u64 = 1_000_000;
    let fastest = (0..5)
        .map(|_| time_burn(ITERATIONS))
        .min()
        .unwrap_or(Duration::from_micros(1));
    let micros = fastest.as_micros().max(1) as u64;
    (ITERATIONS / micros).max(1)
}
