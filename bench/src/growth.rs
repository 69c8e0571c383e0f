//! What `bench compare --sweeps` leaves for the book, read back from its
//! `sweeps.json` (so `--redraw` writes the same again from a saved run):
//!
//! - `sweeps.md`, between `ANCHOR:` markers: a table per sweep and figure
//!   (`idle-cpu`, `idle-rate`, `idle-p99`, `memory`, `concurrency-rate`,
//!   `concurrency-p99`, `concurrency-cpu`, `concurrency-switches`,
//!   `concurrency-memory`), a server per row and a step per column; and
//!   per model binary, `BINARY-growth`: its own rows of those tables and
//!   the sentences that read them, for its chapter;
//! - the curves, one line per server in its model's colour
//!   ([`chart::colour_of`]), dashed and a shade lighter for each further
//!   variant ([`chart::lighter`]): `idle-sweep-cpu.svg`,
//!   `idle-sweep-rate.svg`, `idle-sweep-p99.svg`, `memory.svg`,
//!   `concurrency-sweep-rate.svg`, `-cpu.svg`, `-switches.svg`, `-p99.svg`.
//!
//! Here the tables; `sentences` writes the sentences that read them,
//! `curves` draws the curves.

use std::path::Path;

use crate::chart::{self, Axis, Line};
use crate::compare::record::SweepsRecord;
use crate::compare::{self, BUSY, Cell, MemoryLine, Variant, median, memory_line};
use crate::lesson::{self, Measure};
use crate::machine::Machine;
use crate::report::{WRITTEN, anchored, markdown};
use loadgen::cost::short;

mod curves;
mod sentences;

use curves::draw;
use sentences::{growth, headline};

/// One sweep as read back: its ladder, and a row of cells per server.
struct Ladder {
    name: String,
    points: Vec<usize>,
    rows: Vec<(Variant, Vec<Cell>)>,
}

/// The run as read back.
struct Run {
    rounds: u64,
    run_s: f64,
    idle: Ladder,
    concurrency: Ladder,
    /// What the sweeps ran on (`None`: a run from before it was recorded).
    machine: Option<Machine>,
}

/// The run, from its record: the two sweeps by name.
fn read(record: &SweepsRecord) -> Result<Run, String> {
    let ladder = |name: &str| -> Result<Ladder, String> {
        let sweep = (record.sweeps.iter())
            .find(|s| s.name == name)
            .ok_or_else(|| format!("sweeps.json: no {name}"))?;
        Ok(Ladder {
            name: sweep.name.clone(),
            points: sweep.points.clone(),
            rows: (sweep.rows.iter())
                .map(|row| (row.server.clone(), row.cells.clone()))
                .collect(),
        })
    };
    Ok(Run {
        rounds: record.rounds as u64,
        run_s: record.run_s,
        idle: ladder("idle-sweep")?,
        concurrency: ladder("concurrency-sweep")?,
        machine: record.machine.clone(),
    })
}

/// Writes `sweeps.md` and the curves into `out` from the run's record.
pub fn write(out: &Path, record: &SweepsRecord) -> Result<(), String> {
    let run = read(record)?;
    draw(out, &run)?;
    std::fs::write(out.join("sweeps.md"), markdown_file(&run))
        .map_err(|e| format!("{}: {e}", out.join("sweeps.md").display()))
}

/// A figure of every round of a cell, by name: the rate (`value`), a
/// server cost (`cpu_us`, `context_switches`, ...) or a further figure
/// (`p99_ms`, `rss_mb`); rounds where it was not counted are left out.
fn values(cell: &Cell, name: &str) -> Vec<f64> {
    cell.rounds()
        .iter()
        .filter_map(|r| match name {
            "value" => Some(r.value),
            "p99_ms" | "rss_mb" => r.extra.get(name).copied(),
            cost => r.server.get(cost),
        })
        .collect()
}

/// The median of a figure over the rounds.
fn figure(cell: &Cell, name: &str) -> Option<f64> {
    median(&values(cell, name))
}

/// The smallest and largest of a figure over the rounds.
fn spread(cell: &Cell, name: &str) -> Option<(f64, f64)> {
    compare::spread(&values(cell, name))
}

/// A cell of a sweep's table: the median, its spread when wide (over 10%
/// either side), and `client-bound` where the bench was the limit; or why
/// there is none.
fn show(cell: &Cell, name: &str) -> String {
    match cell {
        Cell::Cannot { why } => format!("n/a: {why}"),
        Cell::Failed { why } => format!("FAILED: {why}"),
        Cell::Ran { .. } => {
            let Some(value) = figure(cell, name) else {
                return "-".to_string();
            };
            let mut text = match name {
                "value" => chart::thousands(value),
                "rss_mb" => format!("{value:.1}"),
                _ => short(value),
            };
            if let Some((min, max)) = spread(cell, name)
                && cell.rounds().len() > 1
                && max - min > 0.2 * value.abs()
            {
                let f = |v: f64| match name {
                    "value" => chart::thousands(v),
                    _ => short(v),
                };
                text.push_str(&format!(" [{}–{}]", f(min), f(max)));
            }
            if cell.client_bound() {
                text.push_str(" (client-bound)");
            }
            text
        }
    }
}

/// A figure of the tables and charts: (anchor suffix, figure name, what it
/// is with its unit, which way is better, the y axis).
type Figure = (&'static str, &'static str, &'static str, &'static str, Axis);

/// The figures of the tables and charts.
const FIGURES: [Figure; 5] = [
    (
        "rate",
        "value",
        "requests per second",
        "higher is better",
        Axis::Log,
    ),
    (
        "cpu",
        "cpu_us",
        "CPU µs per request",
        "lower is better",
        Axis::Log,
    ),
    (
        "p99",
        "p99_ms",
        "p99 latency, ms",
        "lower is better",
        Axis::Log,
    ),
    (
        "switches",
        "context_switches",
        "context switches per request",
        "lower is better",
        Axis::Log,
    ),
    (
        "memory",
        "rss_mb",
        "server memory, MB",
        "lower is better",
        Axis::Log,
    ),
];

/// Which figures each sweep shows.
fn figures(sweep: &Ladder) -> Vec<Figure> {
    let wanted: &[&str] = match sweep.name.as_str() {
        "idle-sweep" => &["cpu", "rate", "p99"],
        _ => &["rate", "p99", "cpu", "switches", "memory"],
    };
    FIGURES
        .into_iter()
        .filter(|f| wanted.contains(&f.0))
        // Rates by concurrency stay within one power of ten or so: from 0,
        // where twice the height is twice the rate.
        .map(|f| match (sweep.name.as_str(), f.0) {
            ("concurrency-sweep", "rate") => (f.0, f.1, f.2, f.3, Axis::Linear),
            _ => f,
        })
        .collect()
}

/// The short name of a sweep in anchors: `idle`, `concurrency`.
fn short_name(sweep: &Ladder) -> &str {
    sweep.name.trim_end_matches("-sweep")
}

/// The step headings: `0 idle`, `c1`.
fn step(sweep: &Ladder, n: usize) -> String {
    match sweep.name.as_str() {
        "idle-sweep" => format!("{} idle", chart::thousands(n as f64)),
        _ => format!("c{}", chart::thousands(n as f64)),
    }
}

/// A sweep's table of one figure, for `rows`.
fn table(sweep: &Ladder, name: &str, rows: &[&(Variant, Vec<Cell>)]) -> String {
    let header: Vec<String> = std::iter::once("server".to_string())
        .chain(sweep.points.iter().map(|&n| step(sweep, n)))
        .collect();
    let lines: Vec<Vec<String>> = rows
        .iter()
        .map(|(variant, cells)| {
            std::iter::once(format!("`{}`", variant.name))
                .chain(cells.iter().map(|c| show(c, name)))
                .collect()
        })
        .collect();
    markdown(&header, &lines)
}

/// The memory table: each server's line through (connections, memory).
fn memory_table(run: &Run, rows: &[&(Variant, Vec<Cell>)]) -> String {
    let header = [
        "server",
        "bytes per connection ↓ (slope)",
        "MB with none (intercept)",
        "measured up to",
    ]
    .map(String::from);
    let lines: Vec<Vec<String>> = rows
        .iter()
        .map(
            |(variant, cells)| match memory_line(&run.idle.points, cells) {
                Some(line) => vec![
                    format!("`{}`", variant.name),
                    bytes_with_spread(&line, run.rounds),
                    format!("{:.1}", line.empty_bytes / 1e6),
                    format!("{} connections", chart::thousands(line.held as f64)),
                ],
                None => vec![
                    format!("`{}`", variant.name),
                    cells
                        .iter()
                        .find_map(|c| match c {
                            Cell::Cannot { why } | Cell::Failed { why } => {
                                Some(format!("n/a: {why}"))
                            }
                            _ => None,
                        })
                        .unwrap_or_else(|| "-".to_string()),
                    "-".to_string(),
                    "-".to_string(),
                ],
            },
        )
        .collect();
    markdown(&header, &lines)
}

/// A slope as the table prints it, with its spread when there were rounds.
fn bytes_with_spread(line: &MemoryLine, rounds: u64) -> String {
    let mut text = chart::thousands(line.bytes_per_connection);
    if rounds > 1 {
        text.push_str(&format!(
            " [{}–{}]",
            chart::thousands(line.spread.0),
            chart::thousands(line.spread.1)
        ));
    }
    text
}

/// What the marks mean, under the tables.
fn legend(run: &Run) -> String {
    format!(
        "\nA figure is the median of {} round(s) of {:.1} s per step, each round a freshly \
         started server taken up the ladder; [min–max] is the spread where it is wider than \
         10% either side. *client-bound*: the bench's core was full and the server's was not. \
         Memory is the resident set of the server's processes; kernel memory (socket \
         buffers, a thread's kernel stack) is in no process's resident set.\n",
        run.rounds, run.run_s
    )
}

fn markdown_file(run: &Run) -> String {
    let mut text = WRITTEN.replace("compare.json", "sweeps.json");
    for sweep in [&run.idle, &run.concurrency] {
        for (suffix, name, ..) in figures(sweep) {
            let anchor = format!("{}-{suffix}", short_name(sweep));
            text.push_str(&anchored(
                &anchor,
                &(table(sweep, name, &rows(sweep, |_| true)) + &legend(run)),
            ));
        }
    }
    text.push_str(&anchored(
        "memory",
        &(memory_table(run, &rows(&run.idle, |_| true)) + &legend(run)),
    ));
    text.push_str(&anchored("idle-headline", &headline(run)));
    text.push_str(&anchored(
        "machine",
        &Machine::markdown(run.machine.as_ref()),
    ));
    let mut binaries: Vec<&str> = run
        .idle
        .rows
        .iter()
        .map(|(v, _)| v.binary.as_str())
        .collect();
    binaries.dedup();
    for binary in binaries {
        text.push_str(&anchored(&format!("{binary}-growth"), &growth(run, binary)));
    }
    text
}

/// The rows of `sweep` whose server `keep` keeps.
fn rows(sweep: &Ladder, keep: impl Fn(&Variant) -> bool) -> Vec<&(Variant, Vec<Cell>)> {
    sweep.rows.iter().filter(|(v, _)| keep(v)).collect()
}

#[cfg(test)]
mod tests;
