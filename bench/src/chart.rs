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
    /// How the bar is coloured.
    pub kind: Kind,
}

/// What a bar stands for, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A model of the course.
    Model,
    /// `epoll`: every ratio in the book is to it.
    Reference,
    /// nginx, the production server measured beside the models.
    Peer,
    /// The client, not the server, was the limit: not ranked.
    ClientBound,
}

impl Kind {
    fn colour(self) -> RGBColor {
        match self {
            Kind::Model => RGBColor(70, 110, 180),
            Kind::Reference => RGBColor(220, 120, 30),
            Kind::Peer => RGBColor(60, 150, 80),
            Kind::ClientBound => RGBColor(175, 175, 175),
        }
    }
}

/// The legend under every chart: what the colours and whiskers mean.
const LEGEND: [(Kind, &str); 4] = [
    (Kind::Model, "model"),
    (Kind::Reference, "epoll (the reference)"),
    (Kind::Peer, "nginx"),
    (Kind::ClientBound, "client-bound: not ranked"),
];

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
        .build_cartesian_2d(0.0..max * 1.4, (0..bars.len()).into_segmented())
        .map_err(|e| failed(&e))?;
    let tick = |x: &f64| match scale {
        Scale::Linear => thousands(*x),
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
            bar.kind.colour().filled(),
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
    draw_legend(&legend).map_err(|e| failed(&e))?;
    root.present().map_err(|e| failed(&e))
}

/// The colours' meaning, and the whisker's, in one line under the chart.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let style = TextStyle::from(("sans-serif", 12)).pos(Pos::new(HPos::Left, VPos::Center));
    let mut x = 12;
    for (kind, words) in LEGEND {
        area.draw(&Rectangle::new(
            [(x, 9), (x + 14, 21)],
            kind.colour().filled(),
        ))?;
        area.draw(&Text::new(words, (x + 19, 15), style.clone()))?;
        // About 6 px a character at 12 px sans-serif, then a gap.
        x += 19 + 6 * words.len() as i32 + 24;
    }
    area.draw(&PathElement::new(
        vec![(x, 15), (x + 18, 15)],
        BLACK.stroke_width(2),
    ))?;
    area.draw(&Text::new("spread of the rounds", (x + 23, 15), style))?;
    Ok(())
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
