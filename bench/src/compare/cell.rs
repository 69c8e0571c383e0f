//! One cell of the comparison: a server in a scenario, measured in rounds,
//! and the one rule for what a cell says, in the table and in the charts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::chart::figure;
use loadgen::cost::{self, Client, Costs, short};

/// One round of a cell: one run against a freshly started server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// The figure, in the scenario's unit.
    pub value: f64,
    /// What else to know about it, if anything (`19000 held`).
    #[serde(default)]
    pub note: Option<String>,
    /// Further figures of the same run, by name (ab's mean time per
    /// request, the bench's own memory in a hold, a stall's p99).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, f64>,
    /// What the server cost, counted by the kernel (see [`loadgen::cost`]).
    pub server: Costs,
    /// The bench's own share of a core.
    pub client: Client,
}

impl Round {
    /// The client, not the server, was the limit of this round.
    pub fn client_bound(&self) -> bool {
        cost::client_bound(&self.server, &self.client)
    }
}

/// One cell of the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Cell {
    /// It ran and passed, in every round: the rounds, in the order run.
    Ran {
        /// One per round.
        rounds: Vec<Round>,
    },
    /// The model cannot run this scenario, and why.
    Cannot {
        /// Why.
        why: String,
    },
    /// It should have passed and did not.
    Failed {
        /// What went wrong, and in which round.
        why: String,
    },
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The smallest and largest of `values`.
pub fn spread(values: &[f64]) -> Option<(f64, f64)> {
    let min = values.iter().copied().reduce(f64::min)?;
    let max = values.iter().copied().reduce(f64::max)?;
    Some((min, max))
}

impl Cell {
    /// A cell before its first round: what the server cannot do, if
    /// `cannot` says, else a run with no rounds yet.
    pub fn start(cannot: Option<String>) -> Cell {
        match cannot {
            Some(why) => Cell::Cannot { why },
            None => Cell::Ran { rounds: Vec::new() },
        }
    }

    /// Whether it is still to be run: it can run, and has not failed.
    pub fn runs(&self) -> bool {
        matches!(self, Cell::Ran { .. })
    }

    /// Adds round `round`'s outcome: its measurement, or why it failed
    /// (then the cell has failed, and that is returned).
    pub fn add(&mut self, round: usize, measured: Result<Round, String>) -> Result<(), String> {
        match (self, measured) {
            (Cell::Ran { rounds }, Ok(measured)) => {
                rounds.push(measured);
                Ok(())
            }
            (cell, Err(why)) => {
                *cell = Cell::Failed {
                    why: format!("round {round}: {why}"),
                };
                Err(why)
            }
            (_, Ok(_)) => Ok(()),
        }
    }

    /// The rounds, if it ran.
    pub fn rounds(&self) -> &[Round] {
        match self {
            Cell::Ran { rounds } => rounds,
            _ => &[],
        }
    }

    fn values(&self) -> Vec<f64> {
        self.rounds().iter().map(|r| r.value).collect()
    }

    /// The figure: the median of the rounds, if it ran.
    pub fn value(&self) -> Option<f64> {
        median(&self.values())
    }

    /// The smallest and the largest round.
    pub fn spread(&self) -> Option<(f64, f64)> {
        spread(&self.values())
    }

    /// A server figure (`"syscalls"`, `"cpu_us"`, `"cpu_share"`) of every
    /// round where it was counted.
    fn costs(&self, name: &str) -> Vec<f64> {
        self.rounds()
            .iter()
            .filter_map(|r| r.server.get(name))
            .collect()
    }

    /// The median of a server figure over the rounds, where it was counted.
    pub fn cost(&self, name: &str) -> Option<f64> {
        median(&self.costs(name))
    }

    /// The smallest and largest of a server figure over the rounds.
    pub fn cost_spread(&self, name: &str) -> Option<(f64, f64)> {
        spread(&self.costs(name))
    }

    /// The median of the bench's own share of a core.
    pub fn client_share(&self) -> Option<f64> {
        let values: Vec<f64> = self.rounds().iter().map(|r| r.client.cpu_share).collect();
        median(&values)
    }

    /// Why a server figure was not counted, if it was not (the first
    /// round's reason).
    pub fn missing(&self, name: &str) -> Option<&str> {
        let round = self.rounds().first()?;
        round
            .server
            .missing
            .get(&round.server.name(name))
            .map(String::as_str)
    }

    /// The median of a further figure (`extra`) over the rounds.
    pub fn extra(&self, key: &str) -> Option<f64> {
        let values: Vec<f64> = self
            .rounds()
            .iter()
            .filter_map(|r| r.extra.get(key).copied())
            .collect();
        median(&values)
    }

    /// The client was the limit in most rounds: the throughput is the
    /// client's, and the cell is not ranked.
    pub fn client_bound(&self) -> bool {
        let rounds = self.rounds();
        let bound = rounds.iter().filter(|r| r.client_bound()).count();
        !rounds.is_empty() && bound * 2 > rounds.len()
    }

    /// The cell as the table and the charts print it, the one rule for
    /// both: the median, the spread of the rounds in brackets when there
    /// were several, the note, and `client-bound` where the client was the
    /// limit; or why there is no figure.
    pub fn show(&self) -> String {
        match self {
            Cell::Ran { rounds } => {
                let mut text = self.value().map_or("-".to_string(), figure);
                if let (true, Some((min, max))) = (rounds.len() > 1, self.spread()) {
                    text.push_str(&format!(" [{}–{}]", figure(min), figure(max)));
                }
                if let Some(note) = rounds.first().and_then(|r| r.note.as_ref()) {
                    text.push_str(&format!(" ({note})"));
                }
                if self.client_bound() {
                    text.push_str(" (client-bound)");
                }
                text
            }
            Cell::Cannot { why } => format!("n/a: {why}"),
            Cell::Failed { why } => format!("FAILED: {why}"),
        }
    }

    /// A server figure as the tables print it: the median, with the
    /// spread of the rounds when it is wide enough to matter (over 10%
    /// either side); `-` and nothing else when it was not counted.
    pub fn show_cost(&self, name: &str) -> String {
        let Some(value) = self.cost(name) else {
            return "-".to_string();
        };
        let mut text = short(value);
        if let Some((min, max)) = self.cost_spread(name) {
            if self.rounds().len() > 1 && (max - min) > 0.2 * value.abs() {
                text.push_str(&format!(" [{}–{}]", short(min), short(max)));
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loadgen::cost::Unit;

    fn round(value: f64, server_share: f64, client_share: f64) -> Round {
        Round {
            value,
            note: None,
            extra: BTreeMap::new(),
            server: Costs {
                unit: Unit::Request,
                cpu_us: Some(value / 10_000.0),
                syscalls: Some(2.0),
                cpu_share: Some(server_share),
                ..Costs::default()
            },
            client: Client {
                cpu_share: client_share,
            },
        }
    }

    /// A cell's figure is the median of its rounds, shown with their
    /// spread; its costs are medians too.
    #[test]
    fn a_cell_is_the_median_of_its_rounds() {
        let cell = Cell::Ran {
            rounds: vec![
                round(85_000.0, 1.0, 1.0),
                round(115_000.0, 1.0, 1.0),
                round(100_000.0, 1.0, 1.0),
            ],
        };
        assert_eq!(cell.value(), Some(100_000.0));
        assert_eq!(cell.spread(), Some((85_000.0, 115_000.0)));
        assert_eq!(cell.show(), "100,000 [85,000–115,000]");
        assert_eq!(cell.cost("cpu_us"), Some(10.0));
        // A narrow spread (all three the same) is not shown; a wide one is.
        assert_eq!(cell.show_cost("syscalls"), "2.00");
        assert_eq!(cell.show_cost("cpu_us"), "10.0 [8.50–11.5]");
        assert_eq!(cell.show_cost("voluntary_switches"), "-");
        assert_eq!(median(&[1.0, 4.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    /// A cell where the client was the limit in most rounds says so.
    #[test]
    fn a_client_bound_cell_says_so() {
        let cell = Cell::Ran {
            rounds: vec![
                round(20_000.0, 0.6, 1.0),
                round(21_000.0, 0.9, 1.0),
                round(19_000.0, 0.5, 0.99),
            ],
        };
        assert!(cell.client_bound());
        assert!(cell.show().ends_with("(client-bound)"), "{}", cell.show());
    }

    /// Every kind of cell prints something: never a blank.
    #[test]
    fn no_cell_is_blank() {
        let mut held = round(348.0, 0.1, 0.1);
        held.note = Some("19000 held".into());
        let cells = [
            Cell::Ran {
                rounds: vec![round(1234.4, 1.0, 1.0)],
            },
            Cell::Ran { rounds: vec![held] },
            Cell::Cannot {
                why: "one conn. at a time".into(),
            },
            Cell::Failed {
                why: "2 errors".into(),
            },
        ];
        let shown: Vec<String> = cells.iter().map(Cell::show).collect();
        assert_eq!(
            shown,
            [
                "1,234",
                "348 (19000 held)",
                "n/a: one conn. at a time",
                "FAILED: 2 errors"
            ]
        );
    }

    /// A cell reads back from JSON as it was written, every round kept.
    #[test]
    fn a_cell_round_trips_through_json() {
        let cell = Cell::Ran {
            rounds: vec![round(1.0, 0.5, 0.5), round(2.0, 0.5, 0.5)],
        };
        let json = serde_json::to_value(&cell).unwrap();
        assert_eq!(json["rounds"].as_array().unwrap().len(), 2);
        assert_eq!(json["rounds"][0]["server"]["syscalls_per_request"], 2.0);
        assert_eq!(json["rounds"][0]["client"]["cpu_share"], 0.5);
        let back: Cell = serde_json::from_value(json).unwrap();
        assert_eq!(back, cell);
    }
}
