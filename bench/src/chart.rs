//! `bench compare`'s charts: one SVG per scenario, a horizontal bar per
//! server, drawn with plotters' SVG backend for the book.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One bar: the server's name, its figure (`None`: it could not run, or
/// failed), the spread of its rounds, and the text printed after the bar
/// (the figure, or why not).
pub struct Bar {
    /// The server and its flags.
    pub name: String,
    /// The figure, in the chart's unit: the median of the rounds.
    pub value: Option<f64>,
    /// The smallest and largest round, drawn as a whisker across the bar's end.
    pub spread: Option<(f64, f64)>,
    /// Printed at the end of the bar.
    pub label: String,
    /// Its model's colour ([`colour_of`]): the same in every chart.
    pub colour: RGBColor,
    /// The client, not the server, was the limit: drawn faded, not ranked.
    pub client_bound: bool,
}

/// A client-bound bar: its model's colour, faded.
const FADED: f64 = 0.3;

/// How the figures are laid along the axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// From 0, for rates: twice the bar is twice the rate.
    Linear,
    /// Powers of ten, for the memory per connection, which spans 200 B to
    /// over 1 MB across the models.
    Log,
}

/// Draws `bars` into an SVG file at `path`: `title` above, `unit` (with
/// which way is better) under the axis, one bar per server with its name on
/// the left, a whisker for the spread of the rounds, and a legend.
pub fn bars(
    path: &Path,
    title: &str,
    unit: &str,
    scale: Scale,
    bars: &[Bar],
) -> Result<(), String> {
    let at = |value: f64| match scale {
        Scale::Linear => value,
        Scale::Log => value.max(1.0).log10(),
    };
    let max = bars
        .iter()
        .flat_map(|b| [b.value, b.spread.map(|s| s.1)])
        .flatten()
        .map(at)
        .fold(1.0, f64::max);
    let height = 120 + 24 * bars.len() as u32;
    let root = SVGBackend::new(path, (900, height)).into_drawing_area();
    let failed = |err: &dyn std::fmt::Display| format!("{}: {err}", path.display());
    root.fill(&WHITE).map_err(|e| failed(&e))?;
    let (plot, legend) = root.split_vertically(height - 30);
    let mut chart = ChartBuilder::on(&plot)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        // Room for the last axis label, centred on the axis's end.
        .margin_right(40)
        .x_label_area_size(44)
        .y_label_area_size(210)
        // A discrete range holds both its ends: 0..n-1 is n rows, one a bar.
        .build_cartesian_2d(
            0.0..max * 1.4,
            (0..bars.len().saturating_sub(1)).into_segmented(),
        )
        .map_err(|e| failed(&e))?;
    let tick = |x: &f64| match scale {
        Scale::Linear => tick_label(*x),
        Scale::Log => thousands(10f64.powf(*x)),
    };
    // The y axis counts upwards: the first bar goes at the top.
    let n = bars.len();
    let row = |i: usize| n - 1 - i;
    let name = |y: &SegmentValue<usize>| match y {
        SegmentValue::CenterOf(i) if *i < n => bars[row(*i)].name.clone(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(unit)
        .x_labels(6)
        .x_label_formatter(&tick)
        .y_labels(bars.len())
        .y_label_formatter(&name)
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| failed(&e))?;
    let filled = bars.iter().enumerate().filter_map(|(i, bar)| {
        let y = row(i);
        let mut rect = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(y)),
                (at(bar.value?), SegmentValue::Exact(y + 1)),
            ],
            match bar.client_bound {
                true => bar.colour.mix(FADED).filled(),
                false => bar.colour.filled(),
            },
        );
        rect.set_margin(4, 4, 0, 0);
        Some(rect)
    });
    chart.draw_series(filled).map_err(|e| failed(&e))?;
    // The spread of the rounds: a line from the smallest to the largest,
    // across the end of the bar.
    let whiskers = bars.iter().enumerate().filter_map(|(i, bar)| {
        let (min, max) = bar.spread?;
        let y = SegmentValue::CenterOf(row(i));
        Some(PathElement::new(
            vec![(at(min), y.clone()), (at(max), y)],
            BLACK.stroke_width(2),
        ))
    });
    chart.draw_series(whiskers).map_err(|e| failed(&e))?;
    let style = TextStyle::from(("sans-serif", 12)).pos(Pos::new(HPos::Left, VPos::Center));
    let labels = bars.iter().enumerate().map(|(i, bar)| {
        let end = bar.spread.map_or(bar.value.unwrap_or(0.0), |s| s.1);
        let x = at(end.max(bar.value.unwrap_or(0.0))) + max * 0.01;
        Text::new(
            bar.label.clone(),
            (x, SegmentValue::CenterOf(row(i))),
            style.clone(),
        )
    });
    chart.draw_series(labels).map_err(|e| failed(&e))?;
    draw_legend(&legend, bars).map_err(|e| failed(&e))?;
    root.present().map_err(|e| failed(&e))
}

/// The colours' meaning, and the whisker's, in one line under the chart:
/// only what the chart shows (no faded entry where no bar is faded).
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    bars: &[Bar],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let style = TextStyle::from(("sans-serif", 12)).pos(Pos::new(HPos::Left, VPos::Center));
    let words = "each bar in its model's colour, the same in every chart";
    area.draw(&Text::new(words, (12, 15), style.clone()))?;
    // About 6 px a character at 12 px sans-serif, then a gap.
    let mut x = 12 + 6 * words.len() as i32 + 24;
    if bars.iter().any(|b| b.client_bound && b.value.is_some()) {
        let faded = "faded: client-bound, not ranked";
        let grey = RGBColor(100, 100, 100);
        area.draw(&Rectangle::new(
            [(x, 9), (x + 14, 21)],
            grey.mix(FADED).filled(),
        ))?;
        area.draw(&Text::new(faded, (x + 19, 15), style.clone()))?;
        x += 19 + 6 * faded.len() as i32 + 24;
    }
    if bars.iter().any(|b| b.spread.is_some()) {
        area.draw(&PathElement::new(
            vec![(x, 15), (x + 18, 15)],
            BLACK.stroke_width(2),
        ))?;
        area.draw(&Text::new("spread of the rounds", (x + 23, 15), style))?;
    }
    Ok(())
}

/// One line of a curve chart: a server's figure at each step of a sweep.
pub struct Line {
    /// The server and its flags.
    pub name: String,
    /// Its colour: the model's, in every curve chart ([`colour_of`]).
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

/// Every model's colour, the same in every curve chart of the book; nginx
/// green as in the bar charts.
pub fn colour_of(binary: &str) -> RGBColor {
    match binary {
        "blocking" => RGBColor(120, 120, 120),
        "forking" => RGBColor(140, 86, 75),
        "threaded" => RGBColor(148, 103, 189),
        "nonblocking" => RGBColor(188, 189, 34),
        "select" => RGBColor(23, 190, 207),
        "poll" => RGBColor(214, 39, 40),
        "epoll" => RGBColor(220, 120, 30),
        "epoll-mio" => RGBColor(255, 187, 120),
        "signal_driven" => RGBColor(227, 119, 194),
        "coroutine" => RGBColor(31, 119, 180),
        "async_await" => RGBColor(174, 199, 232),
        "uring" => RGBColor(0, 0, 0),
        "tokio_ref" => RGBColor(44, 160, 160),
        "nginx" => RGBColor(60, 150, 80),
        _ => RGBColor(100, 100, 100),
    }
}

/// `colour` lightened `steps` times (each a third of the way to white), for
/// a model's further variants in a curve chart: 0 steps is the colour.
pub fn lighter(colour: RGBColor, steps: usize) -> RGBColor {
    let keep = (2.0f64 / 3.0).powi(steps as i32);
    let towards_white = |c: u8| (255.0 - (255.0 - f64::from(c)) * keep).round() as u8;
    RGBColor(
        towards_white(colour.0),
        towards_white(colour.1),
        towards_white(colour.2),
    )
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
    fn range(self, values: impl Iterator<Item = f64>, pad: bool) -> (f64, f64, Vec<f64>) {
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
    fn label(self, at: f64) -> String {
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
        // A zero has no place on a log axis: the line skips it (the
        // table has it).
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
        series.map_err(|e| failed(&e))?;
        // A dot per step; hollow where the bench was the limit.
        let dots = placed.iter().map(|&(p, hollow)| match hollow {
            true => Circle::new(p, 4, WHITE.filled()),
            false => Circle::new(p, 3, line.colour.filled()),
        });
        chart.draw_series(dots).map_err(|e| failed(&e))?;
        let rings = placed
            .iter()
            .filter(|(_, hollow)| *hollow)
            .map(|&(p, _)| Circle::new(p, 4, line.colour.stroke_width(2)));
        chart.draw_series(rings).map_err(|e| failed(&e))?;
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
        chart.draw_series(whiskers).map_err(|e| failed(&e))?;
    }
    let style = TextStyle::from(("sans-serif", 12)).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, line) in lines.iter().enumerate() {
        let y = 50 + 18 * i as i32;
        let stroke = line.colour.stroke_width(2);
        let dash: Vec<(i32, i32)> = match line.dashed {
            true => vec![(0, 7), (11, 18)],
            false => vec![(0, 18)],
        };
        for (from, to) in dash {
            names
                .draw(&PathElement::new(vec![(from, y), (to, y)], stroke))
                .map_err(|e| failed(&e))?;
        }
        names
            .draw(&Text::new(line.name.clone(), (24, y), style.clone()))
            .map_err(|e| failed(&e))?;
    }
    if lines.iter().flat_map(|l| &l.points).any(|p| p.client_bound) {
        let y = 50 + 18 * lines.len() as i32 + 12;
        names
            .draw(&Circle::new((9, y), 4, BLACK.stroke_width(2)))
            .map_err(|e| failed(&e))?;
        names
            .draw(&Text::new("client-bound: not ranked", (24, y), style))
            .map_err(|e| failed(&e))?;
    }
    root.present().map_err(|e| failed(&e))
}

/// `12345.6` as `12,346`: the axis and bar labels.
/// A figure as the table and the charts print it: two decimals below 10
/// (the sleep scenario's 0.50 s), whole and grouped by three above.
pub fn figure(value: f64) -> String {
    match value.abs() < 10.0 {
        true => format!("{value:.2}"),
        false => thousands(value),
    }
}

/// A tick of a linear axis: whole numbers grouped by three (`20,000`); a
/// fraction, on a short axis (system calls per request: 0.5 to 2.5), with
/// the decimals it has, up to two (`0.5`, `2.5`), not rounded to a whole
/// number that repeats.
fn tick_label(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        return thousands(value);
    }
    let text = format!("{value:.2}");
    text.trim_end_matches('0').to_string()
}

/// Digits grouped by three: `168,010`.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A variant's shade: the colour itself, then lighter, never past white.
    #[test]
    fn variants_shade_towards_white() {
        let orange = RGBColor(220, 120, 30);
        assert_eq!(lighter(orange, 0), orange);
        assert_eq!(lighter(orange, 1), RGBColor(232, 165, 105));
        assert_eq!(lighter(orange, 20), RGBColor(255, 255, 255));
    }

    /// A linear axis's ticks keep their fractions: 0.5 steps are not
    /// rounded to 0, 0, 1, 2, 2.
    #[test]
    fn ticks_keep_their_fractions() {
        let ticks: Vec<String> = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 0.25, 20000.0]
            .into_iter()
            .map(tick_label)
            .collect();
        assert_eq!(
            ticks,
            ["0", "0.5", "1", "1.5", "2", "2.5", "0.25", "20,000"]
        );
    }

    /// Log axes tick at whole powers of ten over the range; linear ones
    /// at round steps from 0.
    #[test]
    fn axes_tick_where_a_reader_expects() {
        let (lo, hi, ticks) = Axis::Log.range([0.5f64, 2.9].into_iter(), true);
        assert_eq!((lo, hi), (0.0, 3.0));
        assert_eq!(ticks, vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(Axis::Log.label(3.0), "1,000");
        let (lo, hi, ticks) = Axis::Linear.range([0.0, 19_010.0].into_iter(), false);
        assert_eq!((lo, hi), (0.0, 20_000.0));
        assert_eq!(ticks, vec![0.0, 5_000.0, 10_000.0, 15_000.0, 20_000.0]);
    }

    /// Small figures keep two decimals, so half a second is not "1".
    #[test]
    fn small_figures_keep_decimals() {
        assert_eq!(figure(0.504), "0.50");
        assert_eq!(figure(5.0), "5.00");
        assert_eq!(figure(168_010.2), "168,010");
    }

    /// Axis and bar labels group digits by three.
    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(12_345.6), "12,346");
        assert_eq!(thousands(1_312_063.0), "1,312,063");
    }
}
