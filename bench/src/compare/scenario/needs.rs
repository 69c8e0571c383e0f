//! What a scenario needs of a server, and so which servers cannot run it.

use loadgen::clients;

use crate::compare::{Variant, why_at_a_time};

/// What a scenario needs of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Which of the protocol it uses.
    pub site: Site,
    /// The peer tool that drives it, which must be installed.
    pub tool: Option<Tool>,
    /// How its clients come.
    pub clients: Clients,
    /// Connections past fd 1023 (a hold of thousands).
    pub many_fds: bool,
}

/// Which of the protocol a scenario uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// Static files over HTTP: nginx can run it too.
    Static,
    /// The routes (`/bytes`, `/delay`, `/cpu`): the workspace's servers.
    Routes,
    /// Echo (`--proto echo`).
    Echo,
}

/// A peer tool a scenario runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `wrk`.
    Wrk,
    /// `ab` (apache2-utils).
    Ab,
}

/// How a scenario's clients come, which says whether a server that serves
/// N connections at a time can run it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clients {
    /// None at all.
    None,
    /// They come and go, or are few and wait their turn: a server with N
    /// at a time serves them in turns, which is what the scenario shows.
    Passing,
    /// Two that keep their connections: a pool of two or more serves both.
    Two,
    /// Many that keep their connections: the ones past the first N would
    /// wait in the backlog for ever.
    Kept,
}

impl Needs {
    /// Why `variant` cannot run a scenario that needs this, if it cannot:
    /// nginx serves static files only; a tool may be missing; a server of
    /// N connections at a time cannot keep more; `select` refuses fds
    /// past 1023.
    pub fn cannot(&self, variant: &Variant, quick: bool) -> Option<String> {
        let needs = self;
        if variant.static_only {
            return match needs.site {
                Site::Routes => Some("static files only".to_string()),
                Site::Echo => Some("HTTP only".to_string()),
                Site::Static => None,
            };
        }
        match needs.tool {
            Some(Tool::Wrk) if !clients::wrk_installed() => {
                return Some("wrk not installed".to_string());
            }
            Some(Tool::Ab) if !clients::ab_installed() => {
                return Some("ab not installed".to_string());
            }
            _ => {}
        }
        let limits = variant.limits;
        match (needs.clients, limits.at_a_time) {
            (Clients::None | Clients::Passing, _) => None,
            (Clients::Two, Some(n)) if n >= 2 => None,
            (_, Some(n)) => Some(why_at_a_time(n)),
            // Clients past fd 1023 are refused, by design (a hold of
            // `--quick`'s 300 fits).
            (_, None) if needs.many_fds && limits.fd_limit.is_some() && !quick => {
                Some("fds >= 1024 refused".to_string())
            }
            _ => None,
        }
    }
}
