//! The scenarios of `bench compare`, each declared once: its name, what
//! its figure is and in what unit, which way is better, how its chart is
//! scaled, what it needs of a server, the server's flags, and the function
//! that measures one round of it ([`super::measure`]). Adding a scenario
//! is a declaration here, its measuring function, and its place in
//! [`ALL`]; the tables, the charts and the record of a run read it from
//! there.

use std::io;

use super::Variant;
use super::cell::Round;
pub use super::durations::Durations;
use super::measure::{self, Run};
use crate::chart::Scale;

mod needs;
mod show;

pub use needs::{Clients, Needs, Site, Tool};
pub use show::{Better, Per, Theme};

/// A scenario: everything about it, in one place.
#[derive(Debug)]
pub struct Scenario {
    /// The name `--scenario` takes and the record uses: `keepalive`.
    pub name: &'static str,
    /// What is measured, shortly, for the column heading: `keep-alive c100`.
    pub what: &'static str,
    /// The figure's unit: `req/s`.
    pub unit: &'static str,
    /// What the scenario does, in a sentence: the chart's title.
    pub title: &'static str,
    /// Which way the figure is better.
    pub better: Better,
    /// The chart's scale.
    pub scale: Scale,
    /// What the server's costs are counted per, where the scenario is
    /// steady work (a request or a message answered over and over), so
    /// that the CPU, system calls and switches per unit say what one
    /// costs; `None` for the others (a hold, an idle server, a burst of ten
    /// or a hundred, the `/cpu` stall), which show the server's share of a
    /// core instead.
    pub per: Option<Per>,
    /// The grid of the summary it is shown in.
    pub theme: Theme,
    /// The scenario whose load it repeats with another client (`wrk` the
    /// keep-alive one): its costs are left out of the chapters' cost
    /// tables, which would show the same figures twice.
    pub repeats: Option<&'static str>,
    /// What it needs of a server: see [`Scenario::cannot`].
    pub needs: Needs,
    /// Extra flags the server needs for it.
    pub server_args: &'static [&'static str],
    /// In the everyday run; `false`: only in the book's (`--book`) or when
    /// named (`--scenario`).
    pub everyday: bool,
    /// One round of it against a running server.
    pub measure: fn(&Run) -> io::Result<Round>,
}

/// What most scenarios need: static files over HTTP, to many clients that
/// keep their connections.
const KEPT_STATIC: Needs = Needs {
    site: Site::Static,
    tool: None,
    clients: Clients::Kept,
    many_fds: false,
};

/// `/numbers.txt` over 100 keep-alive connections.
pub const KEEPALIVE: Scenario = Scenario {
    name: "keepalive",
    what: "keep-alive c100",
    unit: "req/s",
    title: "GET /numbers.txt over 100 keep-alive connections",
    better: Better::Higher,
    scale: Scale::Linear,
    per: Some(Per::Request),
    theme: Theme::Work,
    repeats: None,
    needs: KEPT_STATIC,
    server_args: &[],
    everyday: true,
    measure: measure::keepalive,
};

/// `/numbers.txt` at concurrency 100, a new connection per request.
pub const CLOSE: Scenario = Scenario {
    name: "close",
    what: "new conn. c100",
    title: "GET /numbers.txt at concurrency 100, a new connection per request",
    needs: Needs {
        clients: Clients::Passing,
        ..KEPT_STATIC
    },
    measure: measure::close,
    ..KEEPALIVE
};

/// `/bytes/65536` over 100 keep-alive connections.
pub const BIG: Scenario = Scenario {
    name: "64k",
    what: "64 KiB c100",
    unit: "MB/s",
    title: "GET /bytes/65536 over 100 keep-alive connections",
    needs: Needs {
        site: Site::Routes,
        ..KEPT_STATIC
    },
    measure: measure::big,
    ..KEEPALIVE
};

/// `/delay/100` over 1,000 connections: waiting costs nothing?
pub const DELAY: Scenario = Scenario {
    name: "delay",
    what: "/delay/100 c1000",
    title: "GET /delay/100 over 1,000 connections (ideal: 10,000 req/s)",
    theme: Theme::Waiting,
    needs: Needs {
        site: Site::Routes,
        ..KEPT_STATIC
    },
    measure: measure::delay,
    ..KEEPALIVE
};

/// 128-byte echo messages over 100 connections.
pub const ECHO: Scenario = Scenario {
    name: "echo",
    what: "echo 128 B c100",
    unit: "msg/s",
    title: "echo: 128-byte messages over 100 connections",
    per: Some(Per::Message),
    needs: Needs {
        site: Site::Echo,
        ..KEPT_STATIC
    },
    server_args: &["--proto", "echo"],
    measure: measure::echo,
    ..KEEPALIVE
};

/// Idle keep-alive connections by the thousand: experiment 5.
pub const HOLD: Scenario = Scenario {
    name: "hold",
    what: "hold",
    unit: "B per conn.",
    title: "server memory per idle keep-alive connection",
    better: Better::Lower,
    scale: Scale::Log,
    per: None,
    theme: Theme::Holding,
    needs: Needs {
        many_fds: true,
        ..KEPT_STATIC
    },
    server_args: &["--max-conns", "20000"],
    measure: measure::hold,
    ..KEEPALIVE
};

/// 1,100 keep-alive connections: past `FD_SETSIZE`, how many are held.
pub const WALL: Scenario = Scenario {
    name: "wall",
    what: "1,100 held",
    unit: "conns",
    title: "1,100 keep-alive connections at once: how many are held",
    better: Better::Higher,
    scale: Scale::Linear,
    needs: KEPT_STATIC,
    measure: measure::wall,
    ..HOLD
};

/// No client at all: does the server use CPU while nothing happens?
pub const IDLE: Scenario = Scenario {
    name: "idle",
    what: "idle",
    unit: "% of a core",
    title: "CPU with no client at all",
    scale: Scale::Linear,
    needs: Needs {
        clients: Clients::None,
        ..KEPT_STATIC
    },
    server_args: &[],
    measure: measure::idle,
    ..HOLD
};

/// One client asks `/cpu/100000` again and again while another fetches
/// `/numbers.txt`: who is blocked by CPU work?
pub const STALL: Scenario = Scenario {
    name: "stall",
    what: "beside /cpu",
    title: "GET /numbers.txt on one connection while another asks /cpu/100000 again and again",
    per: None,
    theme: Theme::Waiting,
    needs: Needs {
        site: Site::Routes,
        clients: Clients::Two,
        ..KEPT_STATIC
    },
    measure: measure::stall,
    ..KEEPALIVE
};

/// `wrk -t1 -c100` on `/numbers.txt`: the keep-alive scenario with the
/// tool the reader knows, to check it is the server, not the bench.
pub const WRK: Scenario = Scenario {
    name: "wrk",
    what: "wrk c100",
    title: "wrk -t1 -c100 on /numbers.txt, keep-alive",
    repeats: Some("keepalive"),
    needs: Needs {
        tool: Some(Tool::Wrk),
        ..KEPT_STATIC
    },
    everyday: false,
    measure: measure::wrk,
    ..KEEPALIVE
};

/// `ab -n 10000 -c 100` on `/numbers.txt`: experiment 1, with the
/// sources' own tool.
pub const AB: Scenario = Scenario {
    name: "ab",
    what: "ab -c100",
    title: "ab -n 10000 -c 100 /numbers.txt, a new connection per request",
    repeats: Some("close"),
    needs: Needs {
        tool: Some(Tool::Ab),
        clients: Clients::Passing,
        ..KEPT_STATIC
    },
    measure: measure::ab,
    ..KEEPALIVE
};

/// Ten `GET /delay/500` at once, the time until the last answer:
/// experiment 3.
pub const SLEEP: Scenario = Scenario {
    name: "sleep",
    what: "10 × /delay/500",
    unit: "s",
    title: "ten GET /delay/500 at once: seconds until the last answer",
    better: Better::Lower,
    per: None,
    theme: Theme::Waiting,
    needs: Needs {
        site: Site::Routes,
        clients: Clients::Passing,
        ..KEPT_STATIC
    },
    measure: measure::sleep,
    ..KEEPALIVE
};

/// 100 threads each send `hello N` and wait for its echo: experiment 4.
pub const HELLO: Scenario = Scenario {
    name: "hello",
    what: "100 hello threads",
    unit: "ms",
    title: "echo: 100 threads send `hello N` at once, ms until all are back",
    needs: Needs {
        site: Site::Echo,
        clients: Clients::Passing,
        ..KEPT_STATIC
    },
    server_args: &["--proto", "echo"],
    measure: measure::hello,
    ..SLEEP
};

/// Every scenario, in the table's column order.
pub const ALL: [&Scenario; 13] = [
    &KEEPALIVE, &CLOSE, &BIG, &DELAY, &ECHO, &HOLD, &WALL, &IDLE, &STALL, &WRK, &AB, &SLEEP, &HELLO,
];

impl Scenario {
    /// The scenario `--scenario NAME` names.
    pub fn named(name: &str) -> Option<&'static Scenario> {
        ALL.into_iter().find(|s| s.name == name)
    }

    /// The column heading: what was measured, its unit, and which way is
    /// better (`↑` higher, `↓` lower).
    pub fn heading(&self) -> String {
        format!("{} ({} {})", self.what, self.unit, self.better.arrow())
    }

    /// Why `variant` cannot run this scenario, if it cannot (see
    /// [`Needs::cannot`]).
    pub fn cannot(&self, variant: &Variant, quick: bool) -> Option<String> {
        self.needs.cannot(variant, quick)
    }
}
