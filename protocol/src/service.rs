//! What a server serves: the protocol, the site, the idle timeout and the
//! CPU-burn calibration. One `Service` is shared by every connection.

use std::time::Duration;

use crate::site::Site;

/// Which protocol the connections speak (`--proto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// The HTTP/1.1 subset of docs/src/contract.md §3.
    Http,
    /// Raw echo, docs/src/contract.md §4.
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
    /// Does `/cpu/<us>`'s work: keeps this thread busy on the CPU for that
    /// long. The server supplies it, since measuring CPU time needs a clock
    /// and the protocol has none (`plumbing` spins on the thread's CPU clock).
    /// Real CPU work, not a sleep, so it really occupies the thread.
    pub burn_cpu: fn(Duration),
}

impl Service {
    /// A service with the defaults of docs/src/contract.md §2 and a `/cpu` that does no work
    /// (it answers at once): what tests start from.
    pub fn new(proto: Proto, site: Site) -> Service {
        Service {
            proto,
            site,
            idle_timeout: crate::limits::DEFAULT_IDLE_TIMEOUT,
            burn_cpu: |_| {},
        }
    }
}
