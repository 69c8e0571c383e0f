//! One scenario's table in `compare.md`: every server, its figure, what a
//! unit cost it, the further figures of its rounds, and both sides' share
//! of a core.

use std::collections::BTreeSet;

use loadgen::cost::short;

use super::{Column, Row, Run, legend, markdown};
use crate::chart;
use crate::compare::Cell;
use crate::compare::scenario::Per;

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
pub(super) fn scenario_table(run: &Run, column: &Column, i: usize, rows: &[Row]) -> String {
    let unit = column.per.unwrap_or(Per::Request).word();
    let extras: Vec<(&str, &str)> = EXTRAS
        .into_iter()
        .filter(|(key, _)| rows.iter().any(|r| r.cells[i].extra(key).is_some()))
        .collect();
    let mut header = vec!["server".to_string(), column.heading()];
    if column.per.is_some() {
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
            if column.per.is_some() {
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
pub(super) fn split(cell: &Cell, total: &str, first: &str, second: &str) -> String {
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
