//! The loop's table of connections, indexed by *token*: the number the
//! kernel hands back with each event (`epoll_event.data`, mio's `Token`).
//! (Also an io_uring operation's `user_data`.) A token is a slot's index, so finding a connection from an event is one
//! array access; freed slots are reused, the last freed first.

use std::time::Instant;

use crate::conn::Conn;
use crate::timers::{Connections, Timed, Timers};
use crate::trace;

/// A connection and what a loop remembers about it. `R` is how the loop
/// records its registration: `EpollFlags` for raw epoll, an
/// `Option<mio::Interest>` for mio.
#[derive(Debug)]
pub struct Client<R> {
    /// The socket and its protocol state.
    pub conn: Conn,
    /// The events it is registered for now: compared with what it wants
    /// after every event, and changed (`EPOLL_CTL_MOD`) only when they differ.
    pub registered: R,
    /// Its live entry in the timer heap (see `timers.rs`).
    pub armed: Option<Instant>,
}

impl<R> Timed for Client<R> {
    fn armed(&mut self) -> &mut Option<Instant> {
        &mut self.armed
    }
}

impl<R> Client<R> {
    /// What a client is made of, field by field, its `Conn` too.
    pub fn layout() -> protocol::layout::Part {
        protocol::layout!(Client<R> {
            conn,
            registered,
            armed
        })
        .expand("conn", Conn::layout())
    }

    /// A connection just registered for `registered`, with no timer yet.
    pub fn new(conn: Conn, registered: R) -> Client<R> {
        Client {
            conn,
            registered,
            armed: None,
        }
    }

    /// Brings its timer in line with its deadline (see `timers.rs`).
    pub fn schedule(&mut self, token: usize, timers: &mut Timers) {
        timers.schedule(token, self.conn.deadline(), &mut self.armed);
    }
}

/// The timer heap finds a connection's record through the table.
impl<T: Timed> Connections for Table<T> {
    fn armed(&mut self, token: usize) -> Option<&mut Option<Instant>> {
        self.get_mut(token).map(Timed::armed)
    }

    fn count(&self) -> usize {
        self.len()
    }

    fn live(&mut self) -> Vec<(usize, Instant)> {
        self.iter_mut()
            .filter_map(|(token, client)| Some((token, (*client.armed())?)))
            .collect()
    }
}

/// Slots holding `T`s, each named by its index.
#[derive(Debug)]
pub struct Table<T> {
    /// `None` marks a free slot.
    slots: Vec<Option<T>>,
    /// Indexes of the free slots, reused before the table grows.
    free: Vec<usize>,
    /// How many slots are in use.
    len: usize,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Table<T> {
    /// What one slot of a table is made of: an `Option<T>`, shown as the
    /// fields of `T` (`layout`), for the book's held-connection tables.
    pub fn slot_layout(layout: protocol::layout::Part) -> protocol::layout::Part {
        protocol::layout::Part::new(
            "its slot in the table",
            std::any::type_name::<Option<T>>(),
            std::mem::size_of::<Option<T>>(),
        )
        .of(layout)
    }

    /// The token the next [`Table::insert`] will use: register the fd with
    /// it first, and insert only if that worked.
    pub fn next_token(&self) -> usize {
        self.free.last().copied().unwrap_or(self.slots.len())
    }

    /// Stores `value` under [`Table::next_token`] and returns that token.
    pub fn insert(&mut self, value: T) -> usize {
        let token = self.next_token();
        match self.free.pop() {
            Some(_) => self.slots[token] = Some(value),
            None => self.slots.push(Some(value)),
        }
        self.len += 1;
        token
    }

    /// The value under `token`, if that slot is in use. A token from a
    /// stale event or timer may name a free slot: `None`, not a panic.
    pub fn get_mut(&mut self, token: usize) -> Option<&mut T> {
        self.slots.get_mut(token)?.as_mut()
    }

    /// Takes the value out and frees its slot.
    pub fn remove(&mut self, token: usize) -> Option<T> {
        let value = self.slots.get_mut(token)?.take()?;
        self.free.push(token);
        self.len -= 1;
        Some(value)
    }

    /// How many values are stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The tokens in use, for a sweep over every connection.
    pub fn tokens(&self) -> Vec<usize> {
        (0..self.slots.len())
            .filter(|&token| self.slots[token].is_some())
            .collect()
    }

    /// Every stored value with its token.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(token, slot)| Some((token, slot.as_ref()?)))
    }

    /// Every stored value with its token, to change.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &mut T)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(token, slot)| Some((token, slot.as_mut()?)))
    }
}

impl<R> Table<Client<R>> {
    /// Closes the connection under `token` if it is done, and returns it if
    /// it is not. Dropping the `Conn` closes the socket, and close(2) also
    /// takes the fd out of the interest list: no other fd refers to this
    /// socket, so no `EPOLL_CTL_DEL` is needed. Its timer entry goes stale
    /// and is skipped when it comes up.
    pub fn open_or_close(&mut self, token: usize) -> Option<&mut Client<R>> {
        if self.get_mut(token)?.conn.is_done() {
            let client = self.remove(token)?;
            trace!("close fd={}", client.conn.fd());
            return None;
        }
        self.get_mut(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokens are reused after removal, and a removed token finds nothing.
    #[test]
    fn tokens_are_reused_and_stale_ones_find_nothing() {
        let mut table = Table::default();
        let a = table.insert("a");
        let b = table.insert("b");
        assert_eq!((a, b), (0, 1));
        assert_eq!(table.remove(a), Some("a"));
        assert_eq!(table.get_mut(a), None);
        assert_eq!(table.remove(a), None);
        assert_eq!(table.next_token(), a);
        assert_eq!(table.insert("c"), a);
        assert_eq!(table.len(), 2);
        assert_eq!(table.tokens(), vec![0, 1]);
        assert_eq!(table.get_mut(99), None);
    }
}
