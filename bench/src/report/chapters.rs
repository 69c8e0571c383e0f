//! `chapters.md`: per model binary, its variants beside `epoll` and nginx,
//! every scenario a row, each figure also as a multiple of epoll's; then
//! what a request cost each of them.

use super::scenario_table::split;
use super::{BESIDE, Column, REFERENCE, Row, Run, WRITTEN, anchored, legend, markdown};
use crate::compare::Cell;

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
pub(super) fn chapters(run: &Run, columns: &[Column], rows: &[Row]) -> String {
    let reference = rows.iter().find(|r| r.name == REFERENCE);
    let nginx = rows.iter().find(|r| r.binary == "nginx");
    let mut binaries: Vec<&str> = Vec::new();
    for row in rows {
        if row.binary != "nginx" && !binaries.contains(&row.binary) {
            binaries.push(row.binary);
        }
    }
    let mut text = String::from(WRITTEN);
    for binary in binaries {
        let mut shown: Vec<&Row> = rows.iter().filter(|r| r.binary == binary).collect();
        // The hand-made runtime and tokio, each in the other's chapter.
        let beside = BESIDE.iter().find(|(a, _)| *a == binary).map(|(_, b)| *b);
        shown.extend(rows.iter().filter(|r| Some(r.binary) == beside));
        shown.extend(reference.filter(|r| r.binary != binary));
        shown.extend(nginx);
        let header: Vec<String> = std::iter::once("scenario".to_string())
            .chain(shown.iter().map(|r| format!("`{}`", r.name)))
            .collect();
        let lines: Vec<Vec<String>> = columns
            .iter()
            .enumerate()
            .map(|(i, column)| {
                std::iter::once(column.heading())
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
        if column.per.is_none() || column.repeats.is_some() {
            continue;
        }
        let what = &column.what;
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
