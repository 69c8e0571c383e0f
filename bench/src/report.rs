//! What `bench compare` leaves for the book, all read back from its
//! `compare.json`, so `bench compare --redraw` writes the same again from a
//! saved run and no figure in the book is typed by hand:
//!
//! - `compare.md`, between `ANCHOR:` markers: the whole run as three grids
//!   by theme, `summary-work`, `summary-waiting` and `summary-holding` (a
//!   server per row, a scenario per column, medians and the spread of the
//!   rounds); then one table per scenario (`keepalive`,
//!   `hold`, ...), every server with what it cost: CPU, system calls and
//!   context switches per request where the scenario is steady work, the
//!   server's and the bench's share of a core, and the scenario's further
//!   figures (ab's mean time per request, a stall's p99, ...);
//! - `chapters.md`: two tables per model binary, `BINARY` and
//!   `BINARY-costs`, for that model's chapter: its variants beside `epoll`
//!   and nginx, every scenario a row, each figure also as a multiple of
//!   epoll's; then what a request cost each of them;
//! - `compare-NAME.svg`: one bar chart per scenario, and
//!   `compare-NAME-cpu.svg`, `-syscalls.svg`, `-switches.svg` for the
//!   steady-work scenarios' costs.
//!
//! Here `compare.md`; `scenario_table` writes one scenario's table of it,
//! `chapters` writes `chapters.md`, `charts` draws the charts.

use std::path::Path;

use crate::chart;
use crate::compare::Cell;
use crate::compare::record::{CompareRecord, ScenarioRecord, Spawn};
use crate::compare::scenario::Theme;
use crate::machine::Machine;

mod chapters;
mod charts;
mod scenario_table;

use scenario_table::scenario_table;

/// The server every chapter's figures are set beside: one thread, one
/// readiness loop, the workspace's reference.
const REFERENCE: &str = "epoll";

/// Binaries whose chapter tables show another's rows too: `async_await`'s
/// hand-made runtime and `tokio_ref`, the same server on tokio.
const BESIDE: &[(&str, &str)] = &[("async_await", "tokio_ref"), ("tokio_ref", "async_await")];

/// The run, as its record holds it: the rounds, the machine, the spawn.
type Run = CompareRecord;

/// One scenario of the run, a column of its tables.
type Column = ScenarioRecord;

/// One server's row of the run.
struct Row<'a> {
    /// The variant's name: `epoll --trigger edge`.
    name: &'a str,
    /// Its binary: `epoll`.
    binary: &'a str,
    /// One cell per scenario, in column order.
    cells: &'a [Cell],
}

impl<'a> Row<'a> {
    /// The rows of `run`.
    fn all(run: &'a Run) -> Vec<Row<'a>> {
        run.rows
            .iter()
            .map(|row| Row {
                name: &row.server.name,
                binary: &row.server.binary,
                cells: &row.cells,
            })
            .collect()
    }

    /// Its bars' colour: its model's, as in every chart of the book.
    fn colour(&self) -> plotters::style::RGBColor {
        chart::colour_of(self.binary)
    }
}

/// Writes the charts, `compare.md` and `chapters.md` into `out`.
pub fn write(out: &Path, run: &Run) -> Result<(), String> {
    let (columns, rows) = (&run.scenarios[..], Row::all(run));
    charts::draw(out, columns, &rows)?;
    let save = |name: &str, text: String| {
        std::fs::write(out.join(name), text)
            .map_err(|e| format!("{}: {e}", out.join(name).display()))
    };
    save("compare.md", compare(run, columns, &rows))?;
    save("chapters.md", chapters::chapters(run, columns, &rows))
}

/// The first line of every written file.
pub(crate) const WRITTEN: &str =
    "<!-- Written by `bench compare` from compare.json: do not edit by hand. -->\n";

/// `text` between `ANCHOR: name` markers, for `{{#include FILE:name}}`.
pub(crate) fn anchored(name: &str, text: &str) -> String {
    format!("\n<!-- ANCHOR: {name} -->\n{text}<!-- ANCHOR_END: {name} -->\n")
}

/// What the marks in a table mean, under it.
fn legend(run: &Run) -> String {
    format!(
        "\n↑ higher is better, ↓ lower is better. A figure is the median of {} round(s), \
         run one server at a time and interleaved; [min–max] is their spread. \
         *client-bound*: the bench's core was full and the server's was not, so the \
         rate is the client's, not the server's, and is not ranked.\n",
        run.rounds
    )
}

/// The grids of the whole run, by theme, so that no table is wider than a
/// page: (anchor, theme).
const THEMES: [(&str, Theme); 3] = [
    ("summary-work", Theme::Work),
    ("summary-waiting", Theme::Waiting),
    ("summary-holding", Theme::Holding),
];

/// `compare.md`: the grid by theme, then a table per scenario.
fn compare(run: &Run, columns: &[Column], rows: &[Row]) -> String {
    let mut text = String::from(WRITTEN);
    for (anchor, theme) in THEMES {
        let shown: Vec<usize> = (0..columns.len())
            .filter(|&i| columns[i].theme == theme)
            .collect();
        if shown.is_empty() {
            continue;
        }
        let header: Vec<String> = std::iter::once("server".to_string())
            .chain(shown.iter().map(|&i| columns[i].heading()))
            .collect();
        let lines: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                std::iter::once(format!("`{}`", row.name))
                    .chain(shown.iter().map(|&i| row.cells[i].show()))
                    .collect()
            })
            .collect();
        text.push_str(&anchored(
            anchor,
            &(markdown(&header, &lines) + &legend(run)),
        ));
    }
    for (i, column) in columns.iter().enumerate() {
        text.push_str(&anchored(
            &column.name,
            &scenario_table(run, column, i, rows),
        ));
    }
    if let Some(spawn) = &run.spawn {
        text.push_str(&anchored("spawn", &spawn_table(spawn)));
    }
    text.push_str(&anchored(
        "machine",
        &Machine::markdown(run.machine.as_ref()),
    ));
    text
}

/// The forking chapter's table: starting, ending and collecting a thread
/// and a process, from a small parent and from one with 256 MiB touched.
fn spawn_table(spawn: &Spawn) -> String {
    let thread = spawn.thread_us;
    let micros = |us: f64| match us < 100.0 {
        true => format!("{us:.1} µs"),
        false => format!("{} µs", chart::thousands(us)),
    };
    let process = |us: f64, rss_kib: f64| {
        vec![
            format!(
                "process: `fork` + `_exit` + `waitpid`, parent RSS {:.1} MB",
                rss_kib * 1024.0 / 1e6
            ),
            format!("{} (**{:.1}×**)", micros(us), us / thread),
        ]
    };
    let lines = vec![
        vec![
            "thread: `spawn` (64 KiB stack) + `join`".to_string(),
            micros(thread),
        ],
        process(spawn.fork_small_us, spawn.fork_small_rss_kib as f64),
        process(spawn.fork_big_us, spawn.fork_big_rss_kib as f64),
    ];
    let mut text = markdown(
        &[
            "start one, let it end, collect it".to_string(),
            "time (median)".to_string(),
        ],
        &lines,
    );
    text.push_str(&format!(
        "
Medians of {} rounds ({} for the big parent), pinned to CPU 0 (`cargo run --release -p forking --example spawn_cost`).
",
        spawn.rounds, spawn.big_rounds
    ));
    text
}

/// A Markdown table from a header and rows of cells.
pub(crate) fn markdown(header: &[String], lines: &[Vec<String>]) -> String {
    let mut text = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        " --- |".repeat(header.len())
    );
    for line in lines {
        text.push_str(&format!("| {} |\n", line.join(" | ")));
    }
    text
}

#[cfg(test)]
mod tests;
