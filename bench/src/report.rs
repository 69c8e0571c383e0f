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

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::chart::{self, Bar, Scale};
use crate::compare::Cell;
use crate::cost::short;
use crate::lesson::{self, Measure};
use crate::machine::Machine;

/// The server every chapter's figures are set beside: one thread, one
/// readiness loop, the workspace's reference.
const REFERENCE: &str = "epoll";

/// Binaries whose chapter tables show another's rows too: `async_await`'s
/// hand-made runtime and `tokio_ref`, the same server on tokio.
const BESIDE: &[(&str, &str)] = &[("async_await", "tokio_ref"), ("tokio_ref", "async_await")];

/// One server's row of the saved run.
struct Row {
    /// The variant's name: `epoll --trigger edge`.
    name: String,
    /// Its binary: `epoll`.
    binary: String,
    /// One cell per scenario, in column order.
    cells: Vec<Cell>,
}

impl Row {
    /// Its bars' colour: its model's, as in every chart of the book.
    fn colour(&self) -> plotters::style::RGBColor {
        chart::colour_of(&self.binary)
    }
}

/// One scenario of the saved run.
struct Column {
    /// `keepalive`, `hold`, ...
    name: String,
    /// With its unit and direction: `keep-alive c100 (req/s ↑)`.
    heading: String,
    /// The chart's title.
    title: String,
    /// `higher` or `lower` is better.
    better: String,
    /// CPU, system calls and switches per unit say what one unit costs.
    per_unit: bool,
}

/// The run's settings, for the notes under the tables, and what it
/// measured apart from the scenarios.
struct Run {
    /// Rounds per cell.
    rounds: u64,
    /// The cost of a fork next to a thread's, if it was measured.
    spawn: Option<Value>,
    /// What the run was measured on (`None`: a run from before it was
    /// recorded).
    machine: Option<Machine>,
}

/// Reads the run back from `compare.json`'s value.
fn read(json: &Value) -> Result<(Run, Vec<Column>, Vec<Row>), String> {
    let text = |v: &Value| v.as_str().unwrap_or("?").to_string();
    let columns = json["scenarios"]
        .as_array()
        .ok_or("compare.json: no scenarios")?
        .iter()
        .map(|s| Column {
            name: text(&s["name"]),
            heading: text(&s["heading"]),
            title: text(&s["title"]),
            better: s["better"].as_str().unwrap_or("higher").to_string(),
            per_unit: s["per_unit_costs"].as_bool().unwrap_or(false),
        })
        .collect();
    let rows = json["rows"]
        .as_array()
        .ok_or("compare.json: no rows")?
        .iter()
        .map(|row| {
            let cells = row["cells"]
                .as_array()
                .ok_or("compare.json: a row without cells")?
                .iter()
                .map(|c| serde_json::from_value(c.clone()).map_err(|e| e.to_string()))
                .collect::<Result<Vec<Cell>, String>>()?;
            Ok(Row {
                name: text(&row["server"]["name"]),
                binary: text(&row["server"]["binary"]),
                cells,
            })
        })
        .collect::<Result<Vec<Row>, String>>()?;
    let run = Run {
        rounds: json["rounds"].as_u64().unwrap_or(1),
        spawn: Some(json["spawn"].clone()).filter(|s| s.is_object()),
        machine: machine(json)?,
    };
    Ok((run, columns, rows))
}

/// Writes the charts, `compare.md` and `chapters.md` into `out`.
pub fn write(out: &Path, json: &Value) -> Result<(), String> {
    let (run, columns, rows) = read(json)?;
    draw_charts(out, &columns, &rows)?;
    let save = |name: &str, text: String| {
        std::fs::write(out.join(name), text)
            .map_err(|e| format!("{}: {e}", out.join(name).display()))
    };
    save("compare.md", compare(&run, &columns, &rows))?;
    save("chapters.md", chapters(&run, &columns, &rows))
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

/// The grid of the whole run split by theme, so that no table is wider than
/// a page: (anchor, the scenarios in it). A scenario in none of them is
/// shown in `summary-more`.
const THEMES: [(&str, &[&str]); 3] = [
    (
        "summary-work",
        &["keepalive", "close", "64k", "echo", "wrk", "ab"],
    ),
    ("summary-waiting", &["delay", "sleep", "stall", "hello"]),
    ("summary-holding", &["hold", "wall", "idle"]),
];

/// `compare.md`: the grid by theme, then a table per scenario.
fn compare(run: &Run, columns: &[Column], rows: &[Row]) -> String {
    let mut text = String::from(WRITTEN);
    let themed: Vec<&str> = THEMES
        .iter()
        .flat_map(|(_, names)| names.iter().copied())
        .collect();
    let more: Vec<&str> = (columns.iter())
        .map(|c| c.name.as_str())
        .filter(|name| !themed.contains(name))
        .collect();
    for (anchor, names) in THEMES.into_iter().chain([("summary-more", &more[..])]) {
        let shown: Vec<usize> = (0..columns.len())
            .filter(|&i| names.contains(&columns[i].name.as_str()))
            .collect();
        if shown.is_empty() {
            continue;
        }
        let header: Vec<String> = std::iter::once("server".to_string())
            .chain(shown.iter().map(|&i| columns[i].heading.clone()))
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

/// The run's `machine`, read back with its own type: absent in a run from
/// before it was recorded, an error if it is there and malformed.
pub(crate) fn machine(json: &Value) -> Result<Option<Machine>, String> {
    match json.get("machine") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value.clone())
            .map(Some)
            .map_err(|e| format!("machine: {e}")),
    }
}

/// The forking chapter's table: starting, ending and collecting a thread
/// and a process, from a small parent and from one with 256 MiB touched.
fn spawn_table(spawn: &Value) -> String {
    let figure = |key: &str| spawn[key].as_f64().unwrap_or(f64::NAN);
    let thread = figure("thread_us");
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
        process(figure("fork_small_us"), figure("fork_small_rss_kib")),
        process(figure("fork_big_us"), figure("fork_big_rss_kib")),
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
        figure("rounds"),
        figure("big_rounds")
    ));
    text
}

/// A hundredth of a thread's kernel stack (16 KiB on x86-64 and aarch64), in
/// bytes: a change of the machine's kernel stacks per connection held
/// smaller than this, either way, is other processes' threads coming and
/// going, not the server's.
const KERNEL_STACK_NOISE: f64 = 16384.0 / 100.0;

/// The further figures a scenario's rounds carry, and their headings.
/// (The bench's CPU in a hold is the table's own last column.)
const EXTRAS: [(&str, &str); 8] = [
    ("mean_ms", "mean time per request (ms)"),
    ("p50_ms", "p50 (ms)"),
    ("p99_ms", "p99 (ms)"),
    ("refused", "refused"),
    ("server_rss_mb", "server RSS (MB)"),
    ("kernel_stack_per_conn", "kernel stack per conn. (B)"),
    ("bench_rss_mb", "bench RSS (MB)"),
    ("heads_per_s", "HEADs answered per s"),
];

/// One scenario, every server: its figure; what a unit cost the server
/// (where the scenario is steady work); the scenario's further figures;
/// and both sides' share of a core.
fn scenario_table(run: &Run, column: &Column, i: usize, rows: &[Row]) -> String {
    let unit = match column.name.as_str() {
        "echo" | "hello" => "message",
        _ => "request",
    };
    let extras: Vec<(&str, &str)> = EXTRAS
        .into_iter()
        .filter(|(key, _)| rows.iter().any(|r| r.cells[i].extra(key).is_some()))
        .collect();
    let mut header = vec!["server".to_string(), column.heading.clone()];
    if column.per_unit {
        header.extend([
            format!("CPU µs per {unit} ↓ (user + system)"),
            format!("system calls per {unit} ↓"),
            format!("context switches per {unit} ↓ (voluntary + involuntary)"),
        ]);
    }
    header.extend(extras.iter().map(|(_, heading)| heading.to_string()));
    header.extend([
        "server CPU (% of a core)".to_string(),
        "bench CPU (% of a core)".to_string(),
    ]);
    let mut missing = BTreeSet::new();
    let lines: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let cell = &row.cells[i];
            let mut line = vec![format!("`{}`", row.name), cell.show()];
            if cell.rounds().is_empty() {
                line.resize(header.len(), "-".to_string());
                return line;
            }
            if column.per_unit {
                line.push(split(cell, "cpu_us", "user_us", "sys_us"));
                line.push(cell.show_cost("syscalls"));
                line.push(split(
                    cell,
                    "context_switches",
                    "voluntary_switches",
                    "involuntary_switches",
                ));
                for name in ["cpu_us", "syscalls", "context_switches"] {
                    if let Some(why) = cell.missing(name) {
                        missing.insert(why.to_string());
                    }
                }
            }
            for (key, _) in &extras {
                line.push(cell.extra(key).map_or("-".to_string(), |v| match v {
                    v if *key == "kernel_stack_per_conn" && v.abs() < KERNEL_STACK_NOISE => {
                        "~0".to_string()
                    }
                    v if v < 1.0 => format!("{v:.2}"),
                    v if v < 100.0 => format!("{v:.1}"),
                    v => chart::thousands(v),
                }));
            }
            line.push(percent(cell.cost("cpu_share")));
            line.push(percent(cell.client_share()));
            line
        })
        .collect();
    let mut text = markdown(&header, &lines);
    text.push_str(&legend(run));
    if extras
        .iter()
        .any(|(key, _)| *key == "kernel_stack_per_conn")
    {
        text.push_str(
            "\n*kernel stack per conn.*: how much the machine's kernel stacks grew (16 KiB \
             for each thread of any process), divided by the connections held; other \
             processes' threads move it too, so less than a hundredth of a stack either \
             way is shown `~0`: no stack per connection.\n",
        );
    }
    if !missing.is_empty() {
        let reasons: Vec<String> = missing.into_iter().collect();
        text.push_str(&format!("\n`-`: not counted ({}).\n", reasons.join("; ")));
    }
    text
}

/// A total and its two parts: `9.41 (1.20 + 8.21)`.
fn split(cell: &Cell, total: &str, first: &str, second: &str) -> String {
    let shown = cell.show_cost(total);
    match (cell.cost(first), cell.cost(second)) {
        (Some(a), Some(b)) => format!("{shown} ({} + {})", short(a), short(b)),
        _ => shown,
    }
}

/// A share of a core as a percentage: `97%`.
fn percent(share: Option<f64>) -> String {
    share.map_or("-".to_string(), |s| format!("{:.0}%", s * 100.0))
}

/// One SVG bar chart per scenario, `compare-NAME.svg`, and for the
/// steady-work scenarios one per cost, `compare-NAME-cpu.svg`, ...; then
/// the lessons' charts drawn from this run ([`lesson::LESSONS`]).
fn draw_charts(out: &Path, columns: &[Column], rows: &[Row]) -> Result<(), String> {
    let all: Vec<&Row> = rows.iter().collect();
    for (i, column) in columns.iter().enumerate() {
        draw_scenario(
            &out.join(format!("compare-{}.svg", column.name)),
            column,
            i,
            &all,
        )?;
        if column.per_unit {
            for (file, name) in [
                ("cpu", "cpu_us"),
                ("syscalls", "syscalls"),
                ("switches", "context_switches"),
            ] {
                let path = out.join(format!("compare-{}-{file}.svg", column.name));
                draw_cost(&path, column, i, name, &all)?;
            }
        }
    }
    for lesson in lesson::LESSONS {
        let shown: Vec<&Row> = rows
            .iter()
            .filter(|r| lesson.shows(&r.binary, &r.name))
            .collect();
        let path = out.join(lesson.file());
        // A run of some scenarios only (`--scenario`) draws the lessons'
        // charts it has the figures for, and leaves the others alone.
        let column = |name: &str| columns.iter().position(|c| c.name == name);
        match lesson.measure {
            Measure::Scenario(name) => {
                if let Some(i) = column(name) {
                    draw_scenario(&path, &columns[i], i, &shown)?;
                }
            }
            Measure::Cost(name, cost) => {
                if let Some(i) = column(name) {
                    draw_cost(&path, &columns[i], i, cost, &shown)?;
                }
            }
            Measure::IdleSweep(_) => {} // growth draws it, from sweeps.json
        }
    }
    Ok(())
}

/// A scenario's own figure for `rows`, as bars.
fn draw_scenario(path: &Path, column: &Column, i: usize, rows: &[&Row]) -> Result<(), String> {
    let (short_name, unit) = column
        .heading
        .rsplit_once(" (")
        .map_or((column.heading.as_str(), ""), |(short, unit)| {
            (short, unit.trim_end_matches(')'))
        });
    let unit = unit.trim_end_matches(['↑', '↓']).trim();
    let title = if column.title.is_empty() {
        short_name
    } else {
        &column.title
    };
    let scale = match column.name.as_str() {
        "hold" => Scale::Log,
        _ => Scale::Linear,
    };
    let mut axis = format!("{unit}, {} is better", column.better);
    if scale == Scale::Log {
        axis.push_str(" (log scale)");
    }
    let bars: Vec<Bar> = rows
        .iter()
        .map(|row| {
            let cell = &row.cells[i];
            Bar {
                name: row.name.clone(),
                value: cell.value(),
                spread: cell.spread().filter(|_| cell.rounds().len() > 1),
                label: cell.show(),
                colour: row.colour(),
                client_bound: cell.client_bound(),
            }
        })
        .collect();
    chart::bars(path, title, &axis, scale, &bars)
}

/// What one unit of a steady-work scenario cost `rows` (`cpu_us`,
/// `syscalls` or `context_switches`), lower is better, whoever was the
/// limit.
fn draw_cost(
    path: &Path,
    column: &Column,
    i: usize,
    name: &str,
    rows: &[&Row],
) -> Result<(), String> {
    let unit = match column.name.as_str() {
        "echo" => "message",
        _ => "request",
    };
    let what = match name {
        "cpu_us" => format!("CPU µs per {unit}"),
        "syscalls" => format!("system calls per {unit}"),
        _ => format!("context switches per {unit}"),
    };
    let bars: Vec<Bar> = rows
        .iter()
        .map(|row| {
            let cell = &row.cells[i];
            Bar {
                name: row.name.clone(),
                value: cell.cost(name),
                spread: cell.cost_spread(name).filter(|_| cell.rounds().len() > 1),
                label: match (&cell, cell.cost(name)) {
                    (_, Some(value)) => short(value),
                    (Cell::Ran { .. }, None) => "not counted".to_string(),
                    _ => cell.show(),
                },
                colour: row.colour(),
                // Costs stand whoever was the limit.
                client_bound: false,
            }
        })
        .collect();
    chart::bars(
        path,
        &format!("{what}: {}", column.title),
        &format!("{what}, lower is better"),
        Scale::Linear,
        &bars,
    )
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

/// `cell` as text, followed by its multiple of `reference` when both ran
/// and neither was client-bound (a client-bound rate is not ranked).
fn with_ratio(cell: &Cell, reference: Option<&Cell>) -> String {
    let shown = cell.show();
    let reference = reference.filter(|r| !r.client_bound());
    match (cell.value(), reference.and_then(Cell::value)) {
        (Some(value), Some(base)) if base > 0.0 && !cell.client_bound() => match value / base {
            ratio if ratio < 10.0 => format!("{shown}, {ratio:.2}×"),
            ratio => format!("{shown}, {ratio:.0}×"),
        },
        _ => shown,
    }
}

/// Per binary, between its anchors: a scenario per row, a column for each
/// of its variants, then epoll's and nginx's (when they ran); and, between
/// `BINARY-costs` anchors, what a request cost each of them.
fn chapters(run: &Run, columns: &[Column], rows: &[Row]) -> String {
    let reference = rows.iter().find(|r| r.name == REFERENCE);
    let nginx = rows.iter().find(|r| r.binary == "nginx");
    let mut binaries: Vec<&str> = Vec::new();
    for row in rows {
        if row.binary != "nginx" && !binaries.contains(&row.binary.as_str()) {
            binaries.push(&row.binary);
        }
    }
    let mut text = String::from(WRITTEN);
    for binary in binaries {
        let mut shown: Vec<&Row> = rows.iter().filter(|r| r.binary == binary).collect();
        // The hand-made runtime and tokio, each in the other's chapter.
        let beside = BESIDE.iter().find(|(a, _)| *a == binary).map(|(_, b)| *b);
        shown.extend(rows.iter().filter(|r| Some(r.binary.as_str()) == beside));
        shown.extend(reference.filter(|r| r.binary != binary));
        shown.extend(nginx);
        let header: Vec<String> = std::iter::once("scenario".to_string())
            .chain(shown.iter().map(|r| format!("`{}`", r.name)))
            .collect();
        let lines: Vec<Vec<String>> = columns
            .iter()
            .enumerate()
            .map(|(i, column)| {
                std::iter::once(column.heading.clone())
                    .chain(shown.iter().map(|row| {
                        let base = reference
                            .filter(|r| r.name != row.name)
                            .map(|r| &r.cells[i]);
                        with_ratio(&row.cells[i], base)
                    }))
                    .collect()
            })
            .collect();
        let mut table = markdown(&header, &lines);
        table.push_str(&legend(run));
        table.push_str(&format!(
            "After a figure, the same figure as a multiple of `{REFERENCE}`'s in the same run: \
             0.66× is two thirds of it.\n"
        ));
        text.push_str(&anchored(binary, &table));
        text.push_str(&anchored(
            &format!("{binary}-costs"),
            &costs_table(columns, &shown),
        ));
    }
    text
}

/// How a figure of a cell is shown.
type Shown = fn(&Cell) -> String;

/// What a unit of steady work cost each of `shown`: per scenario, CPU µs
/// (user + system), system calls, and context switches (voluntary +
/// involuntary); medians of the rounds.
fn costs_table(columns: &[Column], shown: &[&Row]) -> String {
    let header: Vec<String> = std::iter::once("per request (echo: per message), ↓".to_string())
        .chain(shown.iter().map(|r| format!("`{}`", r.name)))
        .collect();
    let figures: [(&str, Shown); 3] = [
        ("CPU µs (user + system)", |c| {
            split(c, "cpu_us", "user_us", "sys_us")
        }),
        ("system calls", |c| c.show_cost("syscalls")),
        ("context switches (voluntary + involuntary)", |c| {
            split(
                c,
                "context_switches",
                "voluntary_switches",
                "involuntary_switches",
            )
        }),
    ];
    let mut lines = Vec::new();
    for (i, column) in columns.iter().enumerate() {
        // `wrk` and `ab` repeat the keep-alive and new-connection costs.
        if !column.per_unit || matches!(column.name.as_str(), "wrk" | "ab") {
            continue;
        }
        let what = column
            .heading
            .rsplit_once(" (")
            .map_or(column.heading.as_str(), |h| h.0);
        for (figure, show) in figures {
            lines.push(
                std::iter::once(format!("{what}: {figure}"))
                    .chain(shown.iter().map(|row| match &row.cells[i] {
                        Cell::Ran { .. } => show(&row.cells[i]),
                        other => other.show(),
                    }))
                    .collect(),
            );
        }
    }
    markdown(&header, &lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// One round of a cell as compare.json holds it.
    fn ran(value: f64, cpu_us: f64, server_share: f64, client_share: f64) -> Value {
        json!({"outcome": "ran", "rounds": [{
            "value": value, "note": null,
            "server": {"cpu_us_per_request": cpu_us, "user_us_per_request": 1.0,
                       "sys_us_per_request": cpu_us - 1.0, "syscalls_per_request": 2.0,
                       "context_switches_per_request": 0.5,
                       "voluntary_switches_per_request": 0.25,
                       "involuntary_switches_per_request": 0.25,
                       "cpu_share": server_share, "missing": {}},
            "client": {"cpu_share": client_share},
        }]})
    }

    fn run() -> Value {
        json!({
            "rounds": 1,
            "scenarios": [
                {"name": "keepalive", "heading": "keep-alive c100 (req/s ↑)", "title": "t",
                 "better": "higher", "per_unit_costs": true},
                {"name": "close", "heading": "new conn. c100 (req/s ↑)", "title": "t",
                 "better": "higher", "per_unit_costs": true},
                {"name": "hold", "heading": "hold (B per conn. ↓)", "title": "t",
                 "better": "lower", "per_unit_costs": false},
            ],
            "rows": [
                {"server": {"name": "epoll", "binary": "epoll"}, "cells": [
                    ran(100000.0, 10.0, 1.0, 1.0),
                    ran(20000.0, 30.0, 0.6, 1.0),
                    {"outcome": "ran", "rounds": [{"value": 250.0, "note": "19000 held",
                     "extra": {"bench_rss_mb": 9.5, "heads_per_s": 740.0,
                               "kernel_stack_per_conn": -2.46},
                     "server": {"cpu_share": 0.01, "missing": {}}, "client": {"cpu_share": 0.1}}]},
                ]},
                {"server": {"name": "threaded", "binary": "threaded"}, "cells": [
                    ran(66000.0, 15.0, 1.0, 1.0),
                    ran(19000.0, 35.0, 0.7, 1.0),
                    {"outcome": "failed", "why": "held 3 of 10000"},
                ]},
                {"server": {"name": "threaded --pool 8", "binary": "threaded"}, "cells": [
                    {"outcome": "cannot", "why": "8 conn. at a time"},
                    ran(21000.0, 30.0, 0.7, 1.0),
                    {"outcome": "cannot", "why": "8 conn. at a time"},
                ]},
            ],
        })
    }

    /// The part of `text` between `name`'s anchors.
    fn between<'a>(text: &'a str, name: &str) -> &'a str {
        text.split(&format!("<!-- ANCHOR: {name} -->"))
            .nth(1)
            .and_then(|t| t.split(&format!("<!-- ANCHOR_END: {name} -->")).next())
            .unwrap_or_else(|| panic!("no anchor {name} in {text}"))
    }

    /// A chapter's table has its model's variants and epoll as columns,
    /// each figure as a multiple of epoll's, says why a cell is empty, and
    /// does not rank a client-bound cell.
    #[test]
    fn a_chapter_table_sets_the_model_beside_epoll() {
        let (run, columns, rows) = read(&run()).unwrap();
        let text = chapters(&run, &columns, &rows);
        let threaded = between(&text, "threaded");
        assert!(
            threaded.contains("| scenario | `threaded` | `threaded --pool 8` | `epoll` |"),
            "{threaded}"
        );
        assert!(
            threaded.contains(
                "| keep-alive c100 (req/s ↑) | 66,000, 0.66× | n/a: 8 conn. at a time | 100,000 |"
            ),
            "{threaded}"
        );
        assert!(
            threaded.contains("| new conn. c100 (req/s ↑) | 19,000 (client-bound) |"),
            "no ratio for a client-bound rate: {threaded}"
        );
        assert!(threaded.contains("FAILED: held 3 of 10000"), "{threaded}");
        // epoll's own chapter does not repeat epoll as a reference column.
        assert!(text.contains("| scenario | `epoll` |\n"), "{text}");
        let costs = between(&text, "threaded-costs");
        assert!(
            costs.contains("| keep-alive c100: CPU µs (user + system) | 15.0 (1.00 + 14.0) | n/a: 8 conn. at a time | 10.0 (1.00 + 9.00) |"),
            "{costs}"
        );
        assert!(
            costs.contains("| keep-alive c100: system calls | 2.00 |"),
            "{costs}"
        );
        assert!(
            !costs.contains("hold"),
            "a hold has no per-request costs: {costs}"
        );
    }

    /// Each scenario's table shows what a request cost every server, the
    /// shares of a core, and the further figures of its rounds.
    #[test]
    fn a_scenario_table_leads_with_costs() {
        let (run, columns, rows) = read(&run()).unwrap();
        let text = compare(&run, &columns, &rows);
        let keepalive = between(&text, "keepalive");
        assert!(
            keepalive.contains("| `epoll` | 100,000 | 10.0 (1.00 + 9.00) | 2.00 | 0.50 (0.25 + 0.25) | 100% | 100% |"),
            "{keepalive}"
        );
        // A kernel stack smaller than a hundredth of a thread's either way
        // is the machine's noise, and says so.
        let hold = between(&text, "hold");
        assert!(hold.contains("less than a hundredth of a stack"), "{hold}");
        assert!(
            hold.contains("| `epoll` | 250 (19000 held) | ~0 | 9.5 | 740 | 1% | 10% |"),
            "{hold}"
        );
        assert!(
            hold.contains("| `threaded` | FAILED: held 3 of 10000 | - | - | - | - | - |"),
            "{hold}"
        );
        // The grid by theme: each scenario in its theme's grid only.
        let work = between(&text, "summary-work");
        assert!(
            work.contains("| `threaded --pool 8` | n/a: 8 conn. at a time |"),
            "{work}"
        );
        assert!(
            work.contains("new conn. c100") && !work.contains("hold (B"),
            "{work}"
        );
        let holding = between(&text, "summary-holding");
        assert!(
            holding
                .trim_start()
                .starts_with("| server | hold (B per conn. ↓) |"),
            "{holding}"
        );
        assert!(
            !text.contains("ANCHOR: summary-waiting"),
            "no grid without a scenario"
        );
        assert!(
            !text.contains("ANCHOR: summary-more"),
            "every scenario has its theme"
        );
        assert!(
            !text.contains("ANCHOR: spawn"),
            "no spawn table without its run"
        );
    }

    /// The fork-against-thread table, from the run's `spawn` object.
    #[test]
    fn the_spawn_table_sets_a_fork_beside_a_thread() {
        let mut json = run();
        json["spawn"] = json!({"rounds": 2000, "big_rounds": 200, "thread_us": 25.0,
            "fork_small_us": 100.0, "fork_small_rss_kib": 2048, "fork_big_us": 10000.0,
            "fork_big_rss_kib": 264276});
        let (run, columns, rows) = read(&json).unwrap();
        let spawn = between(&compare(&run, &columns, &rows), "spawn").to_string();
        assert!(
            spawn.contains("| thread: `spawn` (64 KiB stack) + `join` | 25.0 µs |"),
            "{spawn}"
        );
        assert!(
            spawn.contains("parent RSS 2.1 MB | 100 µs (**4.0×**) |"),
            "{spawn}"
        );
        assert!(
            spawn.contains("parent RSS 270.6 MB | 10,000 µs (**400.0×**) |"),
            "{spawn}"
        );
        assert!(
            spawn.contains("Medians of 2000 rounds (200 for the big parent)"),
            "{spawn}"
        );
    }
}
