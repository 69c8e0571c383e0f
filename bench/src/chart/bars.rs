//! The bar charts: a horizontal bar per server, its spread as a whisker.

use std::path::Path;

use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{thousands, tick_label};

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
    /// Its model's colour ([`super::colour_of`]): the same in every chart.
    pub colour: RGBColor,
    /// The client, not the server, was the limit: drawn faded, not ranked.
    pub client_bound: bool,
}

/// A client-bound bar: its model's colour, faded.
const FADED: f64 = 0.3;

/// How the figures are laid along the axis (a scenario's record says
/// which its chart takes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
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
    let at = |value: f64| scale.at(value);
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
    draw_bars(&mut chart, bars, scale, max).map_err(|e| failed(&e))?;
    draw_legend(&legend, bars).map_err(|e| failed(&e))?;
    root.present().map_err(|e| failed(&e))
}

impl Scale {
    /// Where `value` goes along the axis.
    fn at(self, value: f64) -> f64 {
        match self {
            Scale::Linear => value,
            Scale::Log => value.max(1.0).log10(),
        }
    }
}

/// The chart's plot: the figure along x, a row per bar up y.
type Plot<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, SegmentedCoord<RangedCoordusize>>>;

/// The bars (faded where client-bound), the spread of the rounds as a
/// line from the smallest to the largest across each bar's end, and each
/// bar's label after it. `max` is the axis's largest figure, placed.
fn draw_bars(chart: &mut Plot, bars: &[Bar], scale: Scale, max: f64) -> Result<(), String> {
    let n = bars.len();
    let row = |i: usize| n - 1 - i;
    let filled = bars.iter().enumerate().filter_map(|(i, bar)| {
        let y = row(i);
        let mut rect = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(y)),
                (scale.at(bar.value?), SegmentValue::Exact(y + 1)),
            ],
            match bar.client_bound {
                true => bar.colour.mix(FADED).filled(),
                false => bar.colour.filled(),
            },
        );
        rect.set_margin(4, 4, 0, 0);
        Some(rect)
    });
    chart.draw_series(filled).map_err(|e| e.to_string())?;
    let whiskers = bars.iter().enumerate().filter_map(|(i, bar)| {
        let (min, max) = bar.spread?;
        let y = SegmentValue::CenterOf(row(i));
        Some(PathElement::new(
            vec![(scale.at(min), y.clone()), (scale.at(max), y)],
            BLACK.stroke_width(2),
        ))
    });
    chart.draw_series(whiskers).map_err(|e| e.to_string())?;
    let style = TextStyle::from(("sans-serif", 12)).pos(Pos::new(HPos::Left, VPos::Center));
    let labels = bars.iter().enumerate().map(|(i, bar)| {
        let end = bar.spread.map_or(bar.value.unwrap_or(0.0), |s| s.1);
        let x = scale.at(end.max(bar.value.unwrap_or(0.0))) + max * 0.01;
        Text::new(
            bar.label.clone(),
            (x, SegmentValue::CenterOf(row(i))),
            style.clone(),
        )
    });
    chart.draw_series(labels).map_err(|e| e.to_string())?;
    Ok(())
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
