//! The run as a plain-text table, for the terminal (`compare.md`, the
//! same as Markdown with a table per scenario, is written by
//! [`crate::report`] from the record).

use super::record::CompareRecord;

/// The run as a plain-text table: a row per server, a column per scenario.
pub fn text(record: &CompareRecord) -> String {
    let headings: Vec<String> = record.scenarios.iter().map(|s| s.heading()).collect();
    let mut lines: Vec<Vec<String>> = vec![
        std::iter::once("server".to_string())
            .chain(headings.iter().cloned())
            .collect(),
    ];
    for row in &record.rows {
        lines.push(
            std::iter::once(row.server.name.clone())
                .chain(row.cells.iter().map(|c| c.show()))
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|col| {
            lines
                .iter()
                .map(|l| l[col].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, width)| {
                let pad = width.saturating_sub(cell.chars().count());
                format!("{cell}{}", " ".repeat(pad))
            })
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}
