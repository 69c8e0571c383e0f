//! How a scenario's figure is shown: which way is better, what its costs
//! are counted per, and which summary grid it is in.

use serde::{Deserialize, Serialize};

/// Which way a scenario's figure is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// More is better: a rate, connections held.
    Higher,
    /// Less is better: memory, time, idle CPU.
    Lower,
}

impl Better {
    /// The mark after a heading: `↑` or `↓`.
    pub fn arrow(self) -> &'static str {
        match self {
            Better::Higher => "↑",
            Better::Lower => "↓",
        }
    }

    /// In words, for a chart's axis: `higher`.
    pub fn word(self) -> &'static str {
        match self {
            Better::Higher => "higher",
            Better::Lower => "lower",
        }
    }

    /// In words, for a chart.
    pub fn words(self) -> &'static str {
        match self {
            Better::Higher => "higher is better",
            Better::Lower => "lower is better",
        }
    }
}

/// What a steady-work scenario's costs are counted per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Per {
    /// An HTTP request answered.
    Request,
    /// An echo message sent back.
    Message,
}

impl Per {
    /// The word: `request`.
    pub fn word(self) -> &'static str {
        match self {
            Per::Request => "request",
            Per::Message => "message",
        }
    }
}

/// The summary grid a scenario is shown in (`compare.md`'s
/// `summary-work`, `-waiting`, `-holding`), so that no table is wider than
/// a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Requests or messages answered as fast as they come.
    Work,
    /// Waiting: on a timer, on the CPU, on threads.
    Waiting,
    /// Connections held, and nothing at all.
    Holding,
}
