//! What `bench compare` leaves for the book, all read back from its
//! `compare.json`, so `bench compare --redraw` writes the same again from a
//! saved run and no figure in the book is typed by hand:
//!
//! - `compare.md`: the whole table, a server per row;
//! - `compare-NAME.svg`: one bar chart per scenario, a bar per server;
//! - `chapters.md`: one table per model binary between `ANCHOR: BINARY`
//!   markers, for that model's chapter: its variants beside `epoll` and
//!   nginx, every scenario a row, and each figure as a multiple of epoll's;
//! - `experiments.md`: one table per experiment of the sources between
//!   `ANCHOR: SCENARIO` markers (`ab`, `delay`, `sleep`, `hello`, `hold`),
//!   with the run's further figures (ab's mean time per request, the
//!   bench's own memory and CPU in a hold).

use std::path::Path;

use serde_json::Value;

use crate::chart::{self, Bar, Scale};
use crate::compare::Cell;

/// The server every chapter's figures are set beside: one thread, one
/// readiness loop, the workspace's reference.
const REFERENCE: &str = "epoll";

/// One server's row of the saved run.
struct Row {
    /// The variant's name: `epoll --trigger edge`.
    name: String,
    /// Its binary: `epoll`.
    binary: String,
    /// One cell per scenario, in column order.
    cells: Vec<Cell>,
}

/// One scenario of the saved run.
struct Column {
    /// `keepalive`, `hold`, ...
    name: String,
    /// With its unit: `keep-alive c100 (req/s)`.
    heading: String,
    /// The chart's title.
    title: String,
}

/// Reads the run back from `compare.json`'s value.
fn read(json: &Value) -> Result<(Vec<Column>, Vec<Row>), String> {
    let text = |v: &Value| v.as_str().unwrap_or("?").to_string();
    let columns = json["scenarios"]
        .as_array()
        .ok_or("compare.json: no scenarios")?
        .iter()
        .map(|s| Column {
            name: text(&s["name"]),
            heading: text(&s["heading"]),
            title: text(&s["title"]),
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
    Ok((columns, rows))
}

/// Writes the charts, `compare.md`, `chapters.md` and `experiments.md`
/// into `out`.
pub fn write(out: &Path, json: &Value) -> Result<(), String> {
    let (columns, rows) = read(json)?;
    draw_charts(out, &columns, &rows)?;
    let save = |name: &str, text: String| {
        std::fs::write(out.join(name), text)
            .map_err(|e| format!("{}: {e}", out.join(name).display()))
    };
    save("compare.md", table(&columns, &rows))?;
    save("chapters.md", chapters(&columns, &rows))?;
    save("experiments.md", experiments(&columns, &rows))
}

/// The whole run as one table: a server per row, a scenario per column.
fn table(columns: &[Column], rows: &[Row]) -> String {
    let header: Vec<String> = std::iter::once("server".to_string())
        .chain(columns.iter().map(|c| c.heading.clone()))
        .collect();
    let lines: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            std::iter::once(format!("`{}`", row.name))
                .chain(row.cells.iter().map(Cell::show))
                .collect()
        })
        .collect();
    markdown(&header, &lines)
}

/// One SVG bar chart per scenario, `compare-NAME.svg`.
fn draw_charts(out: &Path, columns: &[Column], rows: &[Row]) -> Result<(), String> {
    for (i, column) in columns.iter().enumerate() {
        let (short, unit) = column
            .heading
            .rsplit_once(" (")
            .map_or((column.heading.as_str(), ""), |(short, unit)| {
                (short, unit.trim_end_matches(')'))
            });
        let title = if column.title.is_empty() {
            short
        } else {
            &column.title
        };
        let scale = match column.name.as_str() {
            "hold" => Scale::Log,
            _ => Scale::Linear,
        };
        let unit = match scale {
            Scale::Log => format!("{unit}, log scale"),
            Scale::Linear => unit.to_string(),
        };
        let bars: Vec<Bar> = rows
            .iter()
            .map(|row| Bar {
                name: row.name.clone(),
                value: row.cells[i].value(),
                label: row.cells[i].show(),
            })
            .collect();
        chart::bars(
            &out.join(format!("compare-{}.svg", column.name)),
            title,
            &unit,
            scale,
            &bars,
        )?;
    }
    Ok(())
}

/// A Markdown table from a header and rows of cells.
fn markdown(header: &[String], lines: &[Vec<String>]) -> String {
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

/// `cell` as text, followed by its multiple of `reference` when both ran.
fn with_ratio(cell: &Cell, reference: Option<&Cell>) -> String {
    let shown = cell.show();
    match (cell.value(), reference.and_then(Cell::value)) {
        (Some(value), Some(base)) if base > 0.0 => match value / base {
            ratio if ratio < 10.0 => format!("{shown}, {ratio:.2}×"),
            ratio => format!("{shown}, {ratio:.0}×"),
        },
        _ => shown,
    }
}

/// Per binary, between its anchors: a scenario per row, and a column for
/// each of its variants, then epoll's and nginx's (when they ran).
fn chapters(columns: &[Column], rows: &[Row]) -> String {
    let reference = rows.iter().find(|r| r.name == REFERENCE);
    let nginx = rows.iter().find(|r| r.binary == "nginx");
    let mut binaries: Vec<&str> = Vec::new();
    for row in rows {
        if row.binary != "nginx" && !binaries.contains(&row.binary.as_str()) {
            binaries.push(&row.binary);
        }
    }
    let mut text = String::from(
        "<!-- Written by `bench compare` from compare.json: do not edit by hand. -->\n",
    );
    for binary in binaries {
        let mut shown: Vec<&Row> = rows.iter().filter(|r| r.binary == binary).collect();
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
        text.push_str(&format!("\n<!-- ANCHOR: {binary} -->\n"));
        text.push_str(&markdown(&header, &lines));
        text.push_str(&format!(
            "\nAfter a figure, the same figure as a multiple of `{REFERENCE}`'s in the same run: \
             0.66× is two thirds of it.\n"
        ));
        text.push_str(&format!("<!-- ANCHOR_END: {binary} -->\n"));
    }
    text
}

/// The scenarios that are experiments of the sources, and the further
/// figures each one shows: (key in the cell's `extra`, column heading).
const EXPERIMENTS: [(&str, &[(&str, &str)]); 5] = [
    ("ab", &[("mean_ms", "mean time per request (ms)")]),
    ("delay", &[]),
    ("sleep", &[]),
    ("hello", &[]),
    (
        "hold",
        &[
            ("server_rss_mb", "server RSS (MB)"),
            ("bench_rss_mb", "bench RSS (MB)"),
            ("bench_cpu_percent", "bench CPU (% of a core)"),
            ("heads_per_s", "HEADs answered per s"),
        ],
    ),
];

/// Per experiment, between its anchors: every server, the scenario's
/// figure, and the further figures of the same run.
fn experiments(columns: &[Column], rows: &[Row]) -> String {
    let mut text = String::from(
        "<!-- Written by `bench compare` from compare.json: do not edit by hand. -->\n",
    );
    for (name, extras) in EXPERIMENTS {
        let Some(i) = columns.iter().position(|c| c.name == name) else {
            continue;
        };
        let header: Vec<String> = ["server", columns[i].heading.as_str()]
            .into_iter()
            .chain(extras.iter().map(|(_, heading)| *heading))
            .map(str::to_string)
            .collect();
        let lines: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                let extra = |key: &str| match &row.cells[i] {
                    Cell::Ran { extra, .. } => {
                        extra
                            .get(key)
                            .map_or("-".to_string(), |v| match *v < 100.0 {
                                true => format!("{v:.1}"),
                                false => chart::thousands(*v),
                            })
                    }
                    _ => "-".to_string(),
                };
                [format!("`{}`", row.name), row.cells[i].show()]
                    .into_iter()
                    .chain(extras.iter().map(|(key, _)| extra(key)))
                    .collect()
            })
            .collect();
        text.push_str(&format!("\n<!-- ANCHOR: {name} -->\n"));
        text.push_str(&markdown(&header, &lines));
        text.push_str(&format!("<!-- ANCHOR_END: {name} -->\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run() -> Value {
        json!({
            "scenarios": [
                {"name": "keepalive", "heading": "keep-alive c100 (req/s)", "title": "t"},
                {"name": "hold", "heading": "hold (B per conn.)", "title": "t"},
            ],
            "rows": [
                {"server": {"name": "epoll", "binary": "epoll"}, "cells": [
                    {"outcome": "ran", "value": 100000.0, "note": null},
                    {"outcome": "ran", "value": 250.0, "note": "19000 held",
                     "extra": {"bench_rss_mb": 9.5, "heads_per_s": 740.0}},
                ]},
                {"server": {"name": "threaded", "binary": "threaded"}, "cells": [
                    {"outcome": "ran", "value": 66000.0, "note": null},
                    {"outcome": "failed", "why": "held 3 of 10000"},
                ]},
                {"server": {"name": "threaded --pool 8", "binary": "threaded"}, "cells": [
                    {"outcome": "cannot", "why": "8 conn. at a time"},
                    {"outcome": "cannot", "why": "8 conn. at a time"},
                ]},
            ],
        })
    }

    /// A chapter's table has its model's variants and epoll as columns,
    /// each figure as a multiple of epoll's, and says why a cell is empty.
    #[test]
    fn a_chapter_table_sets_the_model_beside_epoll() {
        let (columns, rows) = read(&run()).unwrap();
        let text = chapters(&columns, &rows);
        let threaded = text
            .split("<!-- ANCHOR: threaded -->")
            .nth(1)
            .and_then(|t| t.split("<!-- ANCHOR_END: threaded -->").next())
            .unwrap();
        assert!(
            threaded.contains("| scenario | `threaded` | `threaded --pool 8` | `epoll` |"),
            "{threaded}"
        );
        assert!(
            threaded.contains(
                "| keep-alive c100 (req/s) | 66,000, 0.66× | n/a: 8 conn. at a time | 100,000 |"
            ),
            "{threaded}"
        );
        assert!(threaded.contains("FAILED: held 3 of 10000"), "{threaded}");
        // epoll's own chapter does not repeat epoll as a reference column.
        assert!(text.contains("| scenario | `epoll` |\n"), "{text}");
    }

    /// The hold experiment shows the bench's own figures beside the
    /// server's, and a dash where a run has none.
    #[test]
    fn the_hold_experiment_shows_the_bench_figures() {
        let (columns, rows) = read(&run()).unwrap();
        let text = experiments(&columns, &rows);
        assert!(text.contains("<!-- ANCHOR: hold -->"), "{text}");
        assert!(
            !text.contains("ANCHOR: ab"),
            "no ab column, no ab table: {text}"
        );
        assert!(
            text.contains("| `epoll` | 250 (19000 held) | - | 9.5 | - | 740 |"),
            "{text}"
        );
        assert!(
            text.contains("| `threaded` | FAILED: held 3 of 10000 | - | - | - | - |"),
            "{text}"
        );
    }
}
