//! The curve charts: a line per server over a sweep's steps.

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::thousands;

/// One line of a curve chart: a server's figure at each step of a sweep.
pub struct Line {
    /// The server and its flags.
    pub name: String,
    /// Its colour: the model's, in every curve chart ([`super::colour_of`]).
    pub colour: RGBColor,
    /// Dashed: a flag variant, in its model's colour.
    pub dashed: bool,
    /// (x, median) at each step it reached, with the spread of the rounds
    /// as (smallest, largest).
    pub points: Vec<Point>,
}

/// A step of a curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// The step: connections held, or the concurrency.
    pub x: f64,
    /// The median of the rounds.
    pub y: f64,
    /// The smallest and largest round.
    pub spread: Option<(f64, f64)>,
    /// The bench, not the server, was the limit: drawn hollow.
    pub client_bound: bool,
}

/// An axis of a curve chart: from 0 for counts that start at 0, or in
/// powers of ten where the range spans several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// From 0.
    Linear,
    /// Powers of ten.
    Log,
}

impl Axis {
    /// Where `value` goes along the axis.
    fn at(self, value: f64) -> f64 {
        match self {
            Axis::Linear => value,
            Axis::Log => value.log10(),
        }
    }

    /// The axis's range over `values` (already placed with [`Axis::at`]),
    /// and its ticks: whole powers of ten, or round steps from 0.
    pub(crate) fn range(
        self,
        values: impl Iterator<Item = f64>,
        pad: bool,
    ) -> (f64, f64, Vec<f64>) {
        let (min, max) = values
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        let (min, max) = match min.is_finite() {
            true => (min, max),
            false => (0.0, 1.0),
        };
        match self {
            Axis::Log => {
                // A figure on a power of ten would sit on the plot's edge.
                let room = if pad { 0.05 } else { 0.0 };
                let (min, max) = (min - room, max + room);
                let (lo, hi) = (min.floor(), max.ceil().max(min.floor() + 1.0));
                let ticks = (lo as i32..=hi as i32).map(f64::from).collect();
                (lo, hi, ticks)
            }
            Axis::Linear => {
                let rough = max.max(1e-9) / 5.0;
                let power = 10f64.powf(rough.log10().floor());
                let step = [1.0, 2.0, 5.0, 10.0]
                    .iter()
                    .map(|m| m * power)
                    .find(|step| *step >= rough)
                    .unwrap_or(power * 10.0);
                let hi = (max / step).ceil() * step;
                let ticks = (0..=((hi / step).round() as usize))
                    .map(|i| i as f64 * step)
                    .collect();
                (0.0, hi, ticks)
            }
        }
    }

    /// A tick's label.
    pub(crate) fn label(self, at: f64) -> String {
        let value = match self {
            Axis::Linear => at,
            Axis::Log => 10f64.powf(at),
        };
        match value < 1.0 && value > 0.0 {
            true => format!("{value}"),
            false => thousands(value),
        }
    }
}

/// Draws `lines` into an SVG file at `path`: `title` above, `x` and `y`
/// (each a description with its unit, and which way is better for y) on
/// the axes, a line with a dot per step for each server, whiskers for the
/// spread of the rounds, and the servers' names in a legend on the right.
pub fn lines(
    path: &Path,
    title: &str,
    (x_desc, x_axis): (&str, Axis),
    (y_desc, y_axis): (&str, Axis),
    lines: &[Line],
) -> Result<(), String> {
    let failed = |err: &dyn std::fmt::Display| format!("{}: {err}", path.display());
    let all = || lines.iter().flat_map(|l| l.points.iter());
    let (x_lo, x_hi, x_ticks) = x_axis.range(all().map(|p| x_axis.at(p.x)), false);
    let (y_lo, y_hi, y_ticks) = y_axis.range(
        all()
            .flat_map(|p| [Some(p.y), p.spread.map(|s| s.0), p.spread.map(|s| s.1)])
            .flatten()
            .map(|v| y_axis.at(v)),
        true,
    );
    let root = SVGBackend::new(path, (900, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| failed(&e))?;
    // The names on the right, outside the plot, so no line hides under them.
    let (plot, names) = root.split_horizontally(720);
    let mut chart = ChartBuilder::on(&plot)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .right_y_label_area_size(0)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)
        .map_err(|e| failed(&e))?;
    // plotters picks its own round ticks, as many as asked: asked for as
    // many as the axis's own, it picks the same; any other is left bare.
    let tick =
        |axis: Axis, ticks: &[f64], at: f64| match ticks.iter().any(|t| (t - at).abs() < 1e-6) {
            true => axis.label(at),
            false => String::new(),
        };
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(x_ticks.len())
        .y_labels(y_ticks.len())
        .x_label_formatter(&|x| tick(x_axis, &x_ticks, *x))
        .y_label_formatter(&|y| tick(y_axis, &y_ticks, *y))
        .label_style(("sans-serif", 13))
        .light_line_style(WHITE)
        .draw()
        .map_err(|e| failed(&e))?;
    for line in lines {
        draw_line(&mut chart, line, x_axis, y_axis).map_err(|e| failed(&e))?;
    }
    draw_names(&names, lines).map_err(|e| failed(&e))?;
    root.present().map_err(|e| failed(&e))
}

/// The chart's plot: both axes in f64.
type Plot<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// One server's line: a dot per step (hollow where the bench was the
/// limit), dashed for a further variant, with whiskers for the spread of
/// the rounds. A zero has no place on a log axis: the line skips it (the
/// table has it).
fn draw_line(chart: &mut Plot, line: &Line, x_axis: Axis, y_axis: Axis) -> Result<(), String> {
    let placed: Vec<((f64, f64), bool)> = line
        .points
        .iter()
        .map(|p| ((x_axis.at(p.x), y_axis.at(p.y)), p.client_bound))
        .filter(|((x, y), _)| x.is_finite() && y.is_finite())
        .collect();
    let at: Vec<(f64, f64)> = placed.iter().map(|(p, _)| *p).collect();
    let style = line.colour.stroke_width(2);
    let series = match line.dashed {
        true => chart.draw_series(DashedLineSeries::new(at.clone(), 6, 4, style)),
        false => chart.draw_series(LineSeries::new(at.clone(), style)),
    };
    series.map_err(|e| e.to_string())?;
    let dots = placed.iter().map(|&(p, hollow)| match hollow {
        true => Circle::new(p, 4, WHITE.filled()),
        false => Circle::new(p, 3, line.colour.filled()),
    });
    chart.draw_series(dots).map_err(|e| e.to_string())?;
    let rings = placed
        .iter()
        .filter(|(_, hollow)| *hollow)
        .map(|&(p, _)| Circle::new(p, 4, line.colour.stroke_width(2)));
    chart.draw_series(rings).map_err(|e| e.to_string())?;
    let whiskers = line.points.iter().filter_map(|p| {
        let (min, max) = p.spread?;
        let x = x_axis.at(p.x);
        if !(x.is_finite() && y_axis.at(min).is_finite()) {
            return None;
        }
        Some(PathElement::new(
            vec![(x, y_axis.at(min)), (x, y_axis.at(max))],
            line.colour.stroke_width(1),
        ))
    });
    chart.draw_series(whiskers).map_err(|e| e.to_string())?;
    Ok(())
}

/// The servers' names on the right, outside the plot, so no line hides
/// under them; and what a hollow dot means, where there is one.
fn draw_names(names: &DrawingArea<SVGBackend, Shift>, lines: &[Line]) -> Result<(), String> {
    let style = TextStyle::from(("sans-serif", 12)).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, line) in lines.iter().enumerate() {
        let y = 50 + 18 * i as i32;
        let stroke = line.colour.stroke_width(2);
        let dash: Vec<(i32, i32)> = match line.dashed {
            true => vec![(0, 7), (11, 18)],
            false => vec![(0, 18)],
        };
        for (from, to) in dash {
            let segment = PathElement::new(vec![(from, y), (to, y)], stroke);
            names.draw(&segment).map_err(|e| e.to_string())?;
        }
        let name = Text::new(line.name.clone(), (24, y), style.clone());
        names.draw(&name).map_err(|e| e.to_string())?;
    }
    if lines.iter().flat_map(|l| &l.points).any(|p| p.client_bound) {
        let y = 50 + 18 * lines.len() as i32 + 12;
        let ring = Circle::new((9, y), 4, BLACK.stroke_width(2));
        names.draw(&ring).map_err(|e| e.to_string())?;
        let words = Text::new("client-bound: not ranked", (24, y), style);
        names.draw(&words).map_err(|e| e.to_string())?;
    }
    Ok(())
}
