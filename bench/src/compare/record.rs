//! The record of a run: `compare.json` and `sweeps.json`, each written and
//! read by one of these types, so that what a run saved is what the report
//! reads. Nothing is read by name from untyped JSON, and a missing field is
//! an error, not a default (only `machine` may be absent: a run from
//! before it was recorded). The units travel with the figures: each
//! scenario's record carries its unit, its direction and its scale.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Variant;
use super::cell::Cell;
use super::scenario::{Better, Per, Scenario, Theme};
use crate::chart::Scale;
use crate::machine::Machine;

/// `compare.json`: a run of the scenarios.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompareRecord {
    /// `--quick`.
    pub quick: bool,
    /// Rounds per cell.
    pub rounds: usize,
    /// Each load run's length, seconds.
    pub run_s: f64,
    /// Connections a hold asked of an event loop.
    pub hold_connections: usize,
    /// How long the run took, minutes.
    pub minutes: f64,
    /// What it was measured on (`None`: a run from before it was recorded).
    pub machine: Option<Machine>,
    /// The scenarios, in column order.
    pub scenarios: Vec<ScenarioRecord>,
    /// A row per server, a cell per scenario.
    pub rows: Vec<Row>,
    /// The cost of a fork against a thread's, when `forking` ran.
    pub spawn: Option<Spawn>,
}

/// A scenario as a run records it: what its figure is, and how to show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioRecord {
    /// `keepalive`.
    pub name: String,
    /// `keep-alive c100`.
    pub what: String,
    /// `req/s`.
    pub unit: String,
    /// The chart's title.
    pub title: String,
    /// Which way is better.
    pub better: Better,
    /// The chart's scale.
    pub scale: Scale,
    /// What its costs are counted per, where it is steady work.
    pub per: Option<Per>,
    /// The summary grid it is shown in.
    pub theme: Theme,
    /// The scenario whose load it repeats with another client, if any.
    pub repeats: Option<String>,
}

impl ScenarioRecord {
    /// The record of `scenario`.
    pub fn of(scenario: &Scenario) -> ScenarioRecord {
        ScenarioRecord {
            name: scenario.name.to_string(),
            what: scenario.what.to_string(),
            unit: scenario.unit.to_string(),
            title: scenario.title.to_string(),
            better: scenario.better,
            scale: scenario.scale,
            per: scenario.per,
            theme: scenario.theme,
            repeats: scenario.repeats.map(str::to_string),
        }
    }

    /// The column heading: `keep-alive c100 (req/s ↑)`.
    pub fn heading(&self) -> String {
        format!("{} ({} {})", self.what, self.unit, self.better.arrow())
    }
}

/// One server's row: its cells, one per scenario or step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    /// The server.
    pub server: Variant,
    /// Its cells, in column order.
    pub cells: Vec<Cell>,
}

/// How many cells of `rows` failed.
pub fn failures(rows: &[Row]) -> usize {
    rows.iter()
        .flat_map(|row| &row.cells)
        .filter(|c| matches!(c, Cell::Failed { .. }))
        .count()
}

/// The cost of starting a process against a thread's (the forking
/// chapter's table), from `forking`'s example `spawn_cost`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spawn {
    /// Rounds of each, but the big parent's.
    pub rounds: u64,
    /// Rounds with the big parent.
    pub big_rounds: u64,
    /// A thread's `spawn` + `join`, µs (median).
    pub thread_us: f64,
    /// A small parent's `fork` + `_exit` + `waitpid`, µs.
    pub fork_small_us: f64,
    /// The small parent's resident memory, KiB.
    pub fork_small_rss_kib: u64,
    /// The same from a parent with a big heap, µs.
    pub fork_big_us: f64,
    /// The big parent's resident memory, KiB.
    pub fork_big_rss_kib: u64,
}

/// `sweeps.json`: a run of the sweeps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepsRecord {
    /// A short ladder (`--quick`).
    pub quick: bool,
    /// Rounds per step.
    pub rounds: usize,
    /// Each step's load, seconds.
    pub run_s: f64,
    /// How long the sweeps took, minutes.
    pub minutes: f64,
    /// What they were measured on.
    pub machine: Option<Machine>,
    /// Each sweep.
    pub sweeps: Vec<SweepRecord>,
}

/// One sweep: its steps, and a row of cells per server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepRecord {
    /// `idle-sweep`.
    pub name: String,
    /// What its steps count: `idle connections beside 10 busy ones`.
    pub axis: String,
    /// Its steps.
    pub points: Vec<usize>,
    /// A row per server, a cell per step.
    pub rows: Vec<Row>,
}

/// Reads a record from `path`; `None` if there is no such file.
pub fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Writes `record` to `path`, pretty-printed, its keys in alphabetical
/// order at every level (as the records have always been written).
pub fn write(path: &Path, record: &impl Serialize) -> Result<(), String> {
    let value = serde_json::to_value(record).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
