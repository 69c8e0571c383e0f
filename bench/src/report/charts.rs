//! The charts of a run: a bar chart per scenario, one per cost of each
//! steady-work scenario, and the lessons' charts drawn from the run.

use std::path::Path;

use loadgen::cost::short;

use super::{Column, Row};
use crate::chart::{self, Bar, Scale};
use crate::compare::Cell;
use crate::compare::scenario::Per;
use crate::lesson::{self, Measure};

/// One SVG bar chart per scenario, `compare-NAME.svg`, and for the
/// steady-work scenarios one per cost, `compare-NAME-cpu.svg`, ...; then
/// the lessons' charts drawn from this run ([`lesson::LESSONS`]).
pub(super) fn draw(out: &Path, columns: &[Column], rows: &[Row]) -> Result<(), String> {
    let all: Vec<&Row> = rows.iter().collect();
    for (i, column) in columns.iter().enumerate() {
        draw_scenario(
            &out.join(format!("compare-{}.svg", column.name)),
            column,
            i,
            &all,
        )?;
        if column.per.is_some() {
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
            .filter(|r| lesson.shows(r.binary, r.name))
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
    let title = if column.title.is_empty() {
        &column.what
    } else {
        &column.title
    };
    let scale = column.scale;
    let mut axis = format!("{}, {} is better", column.unit, column.better.word());
    if scale == Scale::Log {
        axis.push_str(" (log scale)");
    }
    let bars: Vec<Bar> = rows
        .iter()
        .map(|row| {
            let cell = &row.cells[i];
            Bar {
                name: row.name.to_string(),
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
    let unit = column.per.unwrap_or(Per::Request).word();
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
                name: row.name.to_string(),
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
