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

use std::path::Path;

use serde_json::Value;

use crate::chart::{self, Axis, Line};
use crate::compare::{self, BUSY, Cell, MemoryLine, Variant, median, memory_line};
use crate::cost::short;
use crate::lesson::{self, Measure};
use crate::machine::Machine;
use crate::report::{WRITTEN, anchored, machine, markdown};

/// One sweep as read back: its ladder, and a row of cells per server.
struct Sweep {
    name: String,
    points: Vec<usize>,
    rows: Vec<(Variant, Vec<Cell>)>,
}

/// The run as read back.
struct Run {
    rounds: u64,
    run_s: f64,
    idle: Sweep,
    concurrency: Sweep,
    /// What the sweeps ran on (`None`: a run from before it was recorded).
    machine: Option<Machine>,
}

fn read(json: &Value) -> Result<Run, String> {
    let sweep = |name: &str| -> Result<Sweep, String> {
        let sweep = json["sweeps"]
            .as_array()
            .and_then(|all| all.iter().find(|s| s["name"] == name))
            .ok_or_else(|| format!("sweeps.json: no {name}"))?;
        let points = serde_json::from_value(sweep["points"].clone()).map_err(|e| e.to_string())?;
        let rows = sweep["rows"]
            .as_array()
            .ok_or("sweeps.json: no rows")?
            .iter()
            .map(|row| {
                let variant: Variant = serde_json::from_value(row["server"].clone())
                    .map_err(|e| format!("sweeps.json server: {e}"))?;
                let cells = serde_json::from_value(row["cells"].clone())
                    .map_err(|e| format!("sweeps.json cells: {e}"))?;
                Ok((variant, cells))
            })
            .collect::<Result<_, String>>()?;
        Ok(Sweep {
            name: name.to_string(),
            points,
            rows,
        })
    };
    Ok(Run {
        rounds: json["rounds"].as_u64().unwrap_or(0),
        run_s: json["run_s"].as_f64().unwrap_or(0.0),
        idle: sweep("idle-sweep")?,
        concurrency: sweep("concurrency-sweep")?,
        machine: machine(json)?,
    })
}

/// Writes `sweeps.md` and the curves into `out` from `json`.
pub fn write(out: &Path, json: &Value) -> Result<(), String> {
    let run = read(json)?;
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
fn figures(sweep: &Sweep) -> Vec<Figure> {
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
fn short_name(sweep: &Sweep) -> &str {
    sweep.name.trim_end_matches("-sweep")
}

/// The step headings: `0 idle`, `c1`.
fn step(sweep: &Sweep, n: usize) -> String {
    match sweep.name.as_str() {
        "idle-sweep" => format!("{} idle", chart::thousands(n as f64)),
        _ => format!("c{}", chart::thousands(n as f64)),
    }
}

/// A sweep's table of one figure, for `rows`.
fn table(sweep: &Sweep, name: &str, rows: &[&(Variant, Vec<Cell>)]) -> String {
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
fn rows(sweep: &Sweep, keep: impl Fn(&Variant) -> bool) -> Vec<&(Variant, Vec<Cell>)> {
    sweep.rows.iter().filter(|(v, _)| keep(v)).collect()
}

/// A model's own rows, and the sentences that read them.
fn growth(run: &Run, binary: &str) -> String {
    let mine = |sweep| rows(sweep, |v| v.binary == binary);
    let mut text = String::new();
    for sentence in read_idle(run, binary)
        .into_iter()
        .chain(read_memory(run, binary))
        .chain(read_concurrency(run, binary))
    {
        text.push_str(&format!("- {sentence}\n"));
    }
    text.push_str("\nCPU µs per request beside idle connections:\n\n");
    text.push_str(&table(&run.idle, "cpu_us", &mine(&run.idle)));
    text.push_str("\nRequests per second by concurrency:\n\n");
    text.push_str(&table(&run.concurrency, "value", &mine(&run.concurrency)));
    text.push_str("\nMemory against connections held:\n\n");
    text.push_str(&memory_table(run, &mine(&run.idle)));
    text.push_str(&legend(run));
    text
}

/// The default variant's row of a sweep.
fn default_row<'a>(sweep: &'a Sweep, binary: &str) -> Option<&'a (Variant, Vec<Cell>)> {
    sweep
        .rows
        .iter()
        .find(|(v, _)| v.binary == binary && v.args.is_empty())
}

/// The highest step a row reached, with its cell.
fn highest<'a>(sweep: &Sweep, cells: &'a [Cell]) -> Option<(usize, &'a Cell)> {
    sweep
        .points
        .iter()
        .zip(cells)
        .rev()
        .find(|(_, c)| !c.rounds().is_empty())
        .map(|(&n, c)| (n, c))
}

/// "Beside 10,000 idle connections a request cost 985 µs of CPU, 150× its
/// 6.3 µs with none."
fn read_idle(run: &Run, binary: &str) -> Option<String> {
    let (variant, cells) = default_row(&run.idle, binary)?;
    let base = figure(cells.first()?, "cpu_us")?;
    let (n, top) = highest(&run.idle, cells)?;
    let at_top = figure(top, "cpu_us")?;
    if n == 0 {
        return None;
    }
    let why_not = run
        .idle
        .points
        .iter()
        .zip(cells)
        .find_map(|(&m, c)| match c {
            Cell::Cannot { why } | Cell::Failed { why } if m > n => {
                Some(format!(" (it did not go further: {why})"))
            }
            _ => None,
        })
        .unwrap_or_default();
    Some(format!(
        "**Idle connections.** With {} busy clients and {} idle connections beside them, \
         a request cost `{}` {} µs of CPU, {:.1} times the {} µs it cost with none{}.",
        BUSY,
        chart::thousands(n as f64),
        variant.name,
        short(at_top),
        at_top / base,
        short(base),
        why_not
    ))
}

/// The step of the idle sweep the book's headline reads: 10,000 idle
/// connections, where `select` has long stopped and a thread per
/// connection still runs.
const HEADLINE_STEP: usize = 10_000;

/// "At 10,000 idle connections, a request cost `poll` X µs of CPU, N
/// times its cost with none; `epoll` ...": poll, epoll and uring, the
/// default variants, at [`HEADLINE_STEP`] (or the highest step of a
/// shorter ladder).
fn headline(run: &Run) -> String {
    let step = match run.idle.points.contains(&HEADLINE_STEP) {
        true => HEADLINE_STEP,
        false => *run.idle.points.iter().max().unwrap_or(&0),
    };
    let Some(at) = run.idle.points.iter().position(|&n| n == step) else {
        return String::new();
    };
    let parts: Vec<String> = ["poll", "epoll", "uring"]
        .iter()
        .filter_map(|binary| {
            let (variant, cells) = default_row(&run.idle, binary)?;
            let base = figure(cells.first()?, "cpu_us")?;
            let cost = figure(cells.get(at)?, "cpu_us")?;
            Some(format!(
                "`{}` {} µs, {:.1} times its {} µs with none",
                variant.name,
                short(cost),
                cost / base,
                short(base)
            ))
        })
        .collect();
    match parts.is_empty() {
        true => String::new(),
        false => format!(
            "With {} idle connections beside {BUSY} busy clients, a request cost {}.\n",
            chart::thousands(step as f64),
            parts.join("; ")
        ),
    }
}

/// "Memory grew by 247 bytes per connection held, from 7.5 MB with none."
fn read_memory(run: &Run, binary: &str) -> Option<String> {
    let (variant, cells) = default_row(&run.idle, binary)?;
    let line = memory_line(&run.idle.points, cells)?;
    Some(format!(
        "**Memory.** `{}` grew by {} bytes of resident memory per connection held (the \
         slope through {} steps up to {} connections), from {:.1} MB with none.",
        variant.name,
        chart::thousands(line.bytes_per_connection),
        cells.iter().filter(|c| !c.rounds().is_empty()).count(),
        chart::thousands(line.held as f64),
        line.empty_bytes / 1e6
    ))
}

/// "From c1 to c10,000 the rate went from A to B req/s; a request cost
/// C µs of CPU and D context switches at the top."
fn read_concurrency(run: &Run, binary: &str) -> Option<String> {
    let (variant, cells) = default_row(&run.concurrency, binary)?;
    let first = cells.first()?;
    let (n, top) = highest(&run.concurrency, cells)?;
    if n == *run.concurrency.points.first()? {
        // One step only: a model that serves a connection or a pool's
        // worth at a time.
        let why = cells.iter().find_map(|c| match c {
            Cell::Cannot { why } | Cell::Failed { why } => Some(why.as_str()),
            _ => None,
        })?;
        return Some(format!(
            "**Concurrency.** `{}` was measured at c{n} only ({why}): {} requests a \
             second{}, at {} µs of CPU each.",
            variant.name,
            chart::thousands(figure(top, "value")?),
            match top.client_bound() {
                true => " (client-bound)",
                false => "",
            },
            short(figure(top, "cpu_us")?),
        ));
    }
    let bound = match top.client_bound() {
        true => " (the bench was the limit there: client-bound)",
        false => "",
    };
    Some(format!(
        "**Concurrency.** From c{} to c{}, `{}` answered {} then {} requests a second{}; \
         a request cost {} then {} µs of CPU and {} then {} context switches, and p99 \
         latency went from {} to {} ms.",
        run.concurrency.points.first()?,
        chart::thousands(n as f64),
        variant.name,
        chart::thousands(figure(first, "value")?),
        chart::thousands(figure(top, "value")?),
        bound,
        short(figure(first, "cpu_us")?),
        short(figure(top, "cpu_us")?),
        figure(first, "context_switches").map_or("-".to_string(), short),
        figure(top, "context_switches").map_or("-".to_string(), short),
        short(figure(first, "p99_ms")?),
        short(figure(top, "p99_ms")?),
    ))
}

/// The curves.
fn draw(out: &Path, run: &Run) -> Result<(), String> {
    for sweep in [&run.idle, &run.concurrency] {
        for figure in figures(sweep) {
            let path = out.join(format!("{}-{}.svg", sweep.name, figure.0));
            draw_figure(&path, sweep, figure)?;
        }
    }
    // The lessons' charts of the idle sweep: the same curves, of the model
    // and its neighbours only, for the figure the lesson reads.
    for lesson in lesson::LESSONS {
        let Measure::IdleSweep(name) = lesson.measure else {
            continue;
        };
        let figure = FIGURES
            .into_iter()
            .find(|f| f.1 == name)
            .ok_or_else(|| format!("{}: no figure {name}", lesson.file()))?;
        let shown = Sweep {
            name: run.idle.name.clone(),
            points: run.idle.points.clone(),
            rows: (run.idle.rows.iter())
                .filter(|(v, _)| lesson.shows(&v.binary, &v.name))
                .cloned()
                .collect(),
        };
        draw_figure(&out.join(lesson.file()), &shown, figure)?;
    }
    // Read before the busy clients connect: n connections held.
    let lines = lines(&run.idle, |n, cell| {
        Some((n as f64, figure(cell, "rss_mb")?, spread(cell, "rss_mb")))
    });
    chart::lines(
        &out.join("memory.svg"),
        "server memory against connections held (idle sweep)",
        ("connections held", Axis::Linear),
        ("resident memory, MB (lower is better)", Axis::Log),
        &lines,
    )
}

/// One figure of `sweep` as curves, a line per server of it, into `path`.
fn draw_figure(path: &Path, sweep: &Sweep, figure: Figure) -> Result<(), String> {
    let (_, name, what, better, y_axis) = figure;
    let (x_desc, x_axis) = match sweep.name.as_str() {
        "idle-sweep" => (
            format!("idle connections, beside {BUSY} busy keep-alive clients"),
            Axis::Linear,
        ),
        _ => ("keep-alive connections (c)".to_string(), Axis::Log),
    };
    let lines = lines(sweep, |n, cell| {
        Some((n as f64, self::figure(cell, name)?, spread(cell, name)))
    });
    chart::lines(
        path,
        &format!("{what} against {}", sweep_words(sweep)),
        (&x_desc, x_axis),
        (&format!("{what} ({better})"), y_axis),
        &lines,
    )
}

fn sweep_words(sweep: &Sweep) -> &'static str {
    match sweep.name.as_str() {
        "idle-sweep" => "idle connections",
        _ => "concurrency",
    }
}

/// (x, the median, the spread of the rounds) of one step.
type Step = (f64, f64, Option<(f64, f64)>);

/// A line per server that reached two steps or more: `at` turns a step and
/// its cell into a point, or `None`.
fn lines(sweep: &Sweep, at: impl Fn(usize, &Cell) -> Option<Step>) -> Vec<Line> {
    sweep
        .rows
        .iter()
        .enumerate()
        .filter_map(|(i, (variant, cells))| {
            // The model's second variant a shade lighter than its first, the
            // third lighter again: two dashed lines of one model stay apart.
            let shade = sweep.rows[..i]
                .iter()
                .filter(|(v, _)| v.binary == variant.binary)
                .count();
            let points: Vec<_> = sweep
                .points
                .iter()
                .zip(cells)
                .filter_map(|(&n, cell)| {
                    let (x, y, spread) = at(n, cell)?;
                    Some(chart::Point {
                        x,
                        y,
                        spread,
                        client_bound: cell.client_bound(),
                    })
                })
                .collect();
            (points.len() >= 2).then(|| Line {
                name: variant.name.clone(),
                colour: chart::lighter(chart::colour_of(&variant.binary), shade),
                dashed: !variant.args.is_empty(),
                points,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{Round, variants};
    use crate::cost::{Client, Costs, Unit};
    use std::collections::BTreeMap;

    /// A round with a rate, a CPU cost per request and a memory reading.
    fn round(rate: f64, cpu_us: f64, rss_mb: f64) -> Round {
        let mut server = Costs::none(Unit::Request, "test");
        server.cpu_us = Some(cpu_us);
        server.cpu_share = Some(1.0);
        server.context_switches = Some(0.01);
        Round {
            value: rate,
            note: None,
            extra: BTreeMap::from([("rss_mb".to_string(), rss_mb), ("p99_ms".to_string(), 1.5)]),
            server,
            client: Client { cpu_share: 0.5 },
        }
    }

    /// A small recorded run, written out: the tables hold its figures, the
    /// sentences read them, the steps a model could not reach say why, and
    /// every curve is drawn.
    #[test]
    fn a_small_run_is_written_and_drawn() {
        let poll = variants("poll").remove(0);
        let select = variants("select").remove(0);
        let ran = |r: Round| Cell::Ran { rounds: vec![r] };
        let cannot = Cell::Cannot {
            why: "fds >= 1024 refused".to_string(),
        };
        let json = serde_json::json!({
            "rounds": 1, "run_s": 1.0,
            "sweeps": [
                {"name": "idle-sweep", "points": [0, 5000],
                 "rows": [
                    {"server": poll, "cells": [ran(round(90_000.0, 10.0, 3.0)), ran(round(3_000.0, 300.0, 4.0))]},
                    {"server": select, "cells": [ran(round(95_000.0, 11.0, 3.0)), cannot.clone()]},
                 ]},
                {"name": "concurrency-sweep", "points": [1, 100],
                 "rows": [
                    {"server": poll, "cells": [ran(round(20_000.0, 20.0, 3.0)), ran(round(85_000.0, 11.0, 3.5))]},
                    {"server": select, "cells": [ran(round(19_000.0, 21.0, 3.0)), ran(round(88_000.0, 10.5, 3.5))]},
                 ]},
            ],
        });
        let out = std::env::temp_dir().join(format!("iomodels-growth-{}", std::process::id()));
        std::fs::create_dir_all(&out).unwrap();
        write(&out, &json).unwrap();
        let md = std::fs::read_to_string(out.join("sweeps.md")).unwrap();
        assert!(md.contains("<!-- ANCHOR: idle-cpu -->"), "{md}");
        assert!(md.contains("| `poll` | 10.0 | 300 |"), "{md}");
        assert!(
            md.contains("| `select` | 11.0 | n/a: fds >= 1024 refused |"),
            "{md}"
        );
        // (4 MB - 3 MB) over 5,000 connections: 200 bytes each, and 3 MB
        // with none.
        assert!(
            md.contains("| `poll` | 200 | 3.0 | 5,000 connections |"),
            "{md}"
        );
        assert!(
            md.contains("a request cost `poll` 300 µs of CPU, 30.0 times the 10.0 µs"),
            "{md}"
        );
        assert!(md.contains("<!-- ANCHOR: select-growth -->"), "{md}");
        // The headline reads poll at the ladder's top (5,000 here).
        assert!(
            md.contains(
                "With 5,000 idle connections beside 10 busy clients, a request cost \
                 `poll` 300 µs, 30.0 times its 10.0 µs with none."
            ),
            "{md}"
        );
        for chart in [
            "idle-sweep-cpu.svg",
            "idle-sweep-rate.svg",
            "idle-sweep-p99.svg",
            "memory.svg",
            "concurrency-sweep-rate.svg",
            "concurrency-sweep-cpu.svg",
            "concurrency-sweep-switches.svg",
            "concurrency-sweep-p99.svg",
            "concurrency-sweep-memory.svg",
        ] {
            let svg = std::fs::read_to_string(out.join(chart)).unwrap();
            assert!(svg.contains("<svg"), "{chart}");
            let names = |name: &str| svg.lines().any(|l| l.trim() == name);
            assert!(names("poll"), "{chart} names poll");
        }
        // The idle CPU curve has a line for poll (two steps), not for
        // select (one step).
        let svg = std::fs::read_to_string(out.join("idle-sweep-cpu.svg")).unwrap();
        assert!(svg.contains("<polyline"), "a line is drawn");
        assert!(
            !svg.lines().any(|l| l.trim() == "select"),
            "a single step draws no line"
        );
        std::fs::remove_dir_all(&out).unwrap();
    }
}
