//! Memory against connections held: the line through an idle sweep's
//! readings, whose slope is what a held connection costs.

use serde::Serialize;

use super::cell::{Cell, median, spread};

/// Memory against connections held, from an idle sweep's cell row: the
/// least-squares line through (connections, bytes) of every step that
/// ran, per round; the median slope (bytes per connection) and intercept
/// (bytes with none), with the slope's spread over the rounds.
pub fn memory_line(points: &[usize], cells: &[Cell]) -> Option<MemoryLine> {
    let rounds = cells.iter().map(|c| c.rounds().len()).max()?;
    let mut slopes = Vec::new();
    let mut intercepts = Vec::new();
    for r in 0..rounds {
        let xy: Vec<(f64, f64)> = points
            .iter()
            .zip(cells)
            .filter_map(|(&n, cell)| {
                // Read before the busy clients connect: n connections.
                let bytes = cell.rounds().get(r)?.extra.get("rss_mb")? * 1e6;
                Some((n as f64, bytes))
            })
            .collect();
        if let Some((slope, intercept)) = least_squares(&xy) {
            slopes.push(slope);
            intercepts.push(intercept);
        }
    }
    let slope = median(&slopes)?;
    Some(MemoryLine {
        bytes_per_connection: slope,
        spread: spread(&slopes)?,
        empty_bytes: median(&intercepts)?,
        held: points
            .iter()
            .zip(cells)
            .filter(|(_, c)| !c.rounds().is_empty())
            .map(|(&n, _)| n)
            .max()?,
    })
}

/// A model's memory line: see [`memory_line`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MemoryLine {
    /// The slope: bytes per connection held.
    pub bytes_per_connection: f64,
    /// The slope's smallest and largest over the rounds.
    pub spread: (f64, f64),
    /// The intercept: bytes with no connection.
    pub empty_bytes: f64,
    /// The most connections it was measured with.
    pub held: usize,
}

/// The least-squares line through `xy`: (slope, intercept). `None` with
/// fewer than two distinct x.
fn least_squares(xy: &[(f64, f64)]) -> Option<(f64, f64)> {
    if xy.len() < 2 {
        return None;
    }
    let n = xy.len() as f64;
    let mean_x = xy.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = xy.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = xy.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = xy.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    if sxx == 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    Some((slope, mean_y - slope * mean_x))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use loadgen::cost::{Client, Costs, Unit};

    use super::*;
    use crate::compare::Round;

    /// A line is found exactly where the points lie on one.
    #[test]
    fn least_squares_fits_a_line() {
        let xy = [(0.0, 1000.0), (10.0, 1250.0), (20.0, 1500.0)];
        let (slope, intercept) = least_squares(&xy).unwrap();
        assert!((slope - 25.0).abs() < 1e-9, "{slope}");
        assert!((intercept - 1000.0).abs() < 1e-9, "{intercept}");
        assert_eq!(least_squares(&[(5.0, 1.0)]), None);
        assert_eq!(least_squares(&[(5.0, 1.0), (5.0, 2.0)]), None);
    }

    fn round_with_memory(mb: f64) -> Round {
        Round {
            value: 1.0,
            note: None,
            extra: BTreeMap::from([("rss_mb".to_string(), mb)]),
            server: Costs::none(Unit::Request, "test"),
            client: Client { cpu_share: 0.5 },
        }
    }

    /// The memory line takes the median slope over the rounds, and skips
    /// the steps a model could not reach.
    #[test]
    fn memory_line_per_round() {
        let points = [0, 1_000, 5_000];
        // Round 1: 2,000 B per connection; round 2: 3,000; round 3: 2,500.
        let cells: Vec<Cell> = [0.0, 1_000.0]
            .iter()
            .map(|&n: &f64| Cell::Ran {
                rounds: [2_000.0, 3_000.0, 2_500.0]
                    .iter()
                    .map(|slope| round_with_memory((5e6 + slope * n) / 1e6))
                    .collect(),
            })
            .chain([Cell::Cannot {
                why: "fds >= 1024 refused".to_string(),
            }])
            .collect();
        let line = memory_line(&points, &cells).unwrap();
        assert!((line.bytes_per_connection - 2_500.0).abs() < 1e-6);
        assert!((line.spread.0 - 2_000.0).abs() < 1e-6 && (line.spread.1 - 3_000.0).abs() < 1e-6);
        assert!((line.empty_bytes - 5e6).abs() < 1e-3);
        assert_eq!(line.held, 1_000);
    }
}
