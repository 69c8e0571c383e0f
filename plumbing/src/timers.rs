//! The loop's timers: every connection's next deadline (a `/delay`, a 408,
//! an idle timeout) in a binary heap, so the earliest one, which becomes
//! the wait's timeout (`epoll_wait`'s, `sigtimedwait`'s, an io_uring
//! timeout), is found in O(1) and due ones are taken in O(log n). select and poll scan every connection for it; at 19,000
//! connections that scan would cost more than the wait.
//!
//! Deadlines move: an idle timeout moves *later* with every byte, a
//! `/delay` moves one *earlier*. A heap cannot move an entry cheaply, so
//! entries are never moved or removed, only added ("lazy deletion"):
//!
//! - Each connection remembers `armed`, the time of its one *live* entry.
//! - [`Timers::schedule`] adds an entry only when the connection's deadline
//!   is earlier than the one armed (or none is). A later deadline adds
//!   nothing: the armed entry fires early, finds nothing due, and the loop
//!   schedules again from the real deadline.
//! - An entry whose time is not its connection's `armed` (superseded, or the
//!   connection is closed and its token reused) is *stale*: the loop skips it.
//! - Stale entries are dropped in bulk when they outnumber the live ones
//!   ([`Timers::rebuild`]), so the heap stays within twice the connections.
//!
//! Firing early is always harmless: `Conn::fire` does nothing before
//! the deadline. That is what makes the laziness safe.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// What the timer heap needs of a connection: the record of its one live
/// heap entry (see the module docs).
pub trait Timed {
    /// The time of its live entry in the heap, if it has one.
    fn armed(&mut self) -> &mut Option<Instant>;
}

/// What the timer heap needs of the loop's connections, by token: a
/// connection's record, how many there are, and every live entry.
/// ([`crate::table::Table`] is one; the heap does not need to know it.)
pub trait Connections {
    /// Connection `token`'s record of its live entry, if it is open.
    fn armed(&mut self, token: usize) -> Option<&mut Option<Instant>>;
    /// How many connections are open.
    fn count(&self) -> usize;
    /// `(token, armed time)` for every connection that has a live entry.
    fn live(&mut self) -> Vec<(usize, Instant)>;
}

/// The deadlines of one loop's connections, earliest first.
#[derive(Debug, Default)]
pub struct Timers {
    /// `(when, token)`, a min-heap by time (`Reverse` turns std's max-heap
    /// around). Holds live and stale entries.
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
}

impl Timers {
    // ANCHOR: lazy
    /// Makes sure connection `token` is woken no later than `deadline`.
    /// `armed` is the connection's own record of its live entry.
    pub fn schedule(
        &mut self,
        token: usize,
        deadline: Option<Instant>,
        armed: &mut Option<Instant>,
    ) {
        let Some(deadline) = deadline else { return };
        if armed.is_none_or(|at| deadline < at) {
            self.heap.push(Reverse((deadline, token)));
            *armed = Some(deadline);
        }
    }

    /// The earliest entry's time: the wait's timeout is computed from it.
    /// It may be a stale entry; then the wait ends early, for nothing, once.
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Takes the earliest entry if it is due at `now`: `(token, time)`. The
    /// caller checks the time against the connection's `armed`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(usize, Instant)> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => {
                let Reverse((at, token)) = self.heap.pop()?;
                Some((token, at))
            }
            _ => None,
        }
    }

    /// The connections whose timer is due at `now`, with their `armed`
    /// cleared (the caller fires them and schedules again). Stale entries
    /// are skipped: their connection is gone, or has an earlier live entry.
    /// Clears out the stale entries when there are too many.
    pub fn due(&mut self, now: Instant, clients: &mut impl Connections) -> Vec<usize> {
        let mut due = Vec::new();
        while let Some((token, at)) = self.pop_due(now) {
            if let Some(armed) = clients.armed(token)
                && *armed == Some(at)
            {
                *armed = None;
                due.push(token);
            } // otherwise stale
        }
        if self.bloated(clients.count()) {
            let live = clients.live();
            self.rebuild(live);
        }
        due
    }
    // ANCHOR_END: lazy

    /// Whether stale entries are worth clearing out: there are more than
    /// twice as many entries as `live` connections (plus some slack, so a
    /// small server never bothers).
    pub fn bloated(&self, live: usize) -> bool {
        self.heap.len() > 2 * live + 1024
    }

    /// Rebuilds the heap from the live entries alone, `(token, armed time)`
    /// for every connection that has one. O(n), and rare: amortised over
    /// the n pushes that made it necessary, O(1) each.
    pub fn rebuild(&mut self, live: impl IntoIterator<Item = (usize, Instant)>) {
        self.heap = live
            .into_iter()
            .map(|(token, at)| Reverse((at, token)))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// An earlier deadline arms a new entry; a later one does not, and the
    /// armed entry comes out first, to be checked and rescheduled.
    #[test]
    fn only_earlier_deadlines_add_entries() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut timers = Timers::default();
        let mut armed = None;
        timers.schedule(7, Some(at(60_000)), &mut armed);
        timers.schedule(7, Some(at(61_000)), &mut armed); // activity: later
        assert_eq!(timers.heap.len(), 1);
        assert_eq!(armed, Some(at(60_000)));
        timers.schedule(7, Some(at(100)), &mut armed); // a /delay: earlier
        assert_eq!(armed, Some(at(100)));
        assert_eq!(timers.next(), Some(at(100)));
        assert_eq!(timers.pop_due(at(99)), None);
        assert_eq!(timers.pop_due(at(100)), Some((7, at(100))));
        // The 60 s entry is still there, stale: its time is not `armed`.
        assert_eq!(timers.pop_due(at(60_000)), Some((7, at(60_000))));
        assert_ne!(armed, Some(at(60_000)));
    }

    /// Rebuilding keeps exactly the live entries, earliest first.
    #[test]
    fn rebuild_drops_stale_entries() {
        let t0 = Instant::now();
        let mut timers = Timers::default();
        let mut armed = [None; 3];
        for round in 0..1000u64 {
            for (token, armed) in armed.iter_mut().enumerate() {
                *armed = None; // as if each entry fired and was rescheduled
                timers.schedule(token, Some(t0 + Duration::from_millis(round)), armed);
            }
        }
        assert!(timers.bloated(3));
        timers.rebuild(
            armed
                .iter()
                .enumerate()
                .filter_map(|(t, a)| Some((t, (*a)?))),
        );
        assert_eq!(timers.heap.len(), 3);
        assert_eq!(timers.next(), Some(t0 + Duration::from_millis(999)));
    }
}
