//! The book's charts, drawn with plotters' SVG backend: bar charts, one
//! per scenario with a horizontal bar per server ([`bars()`]), and curve
//! charts, a line per server over a sweep ([`lines()`]); each model in its
//! declared colour.

use plotters::prelude::*;

mod bars;
mod lines;

pub use bars::{Bar, Scale, bars};
pub use lines::{Axis, Line, Point, lines};

/// Every model's colour, the same in every chart of the book, as its
/// model crate declares it ([`crate::models`]); nginx, which no crate
/// declares, green.
pub fn colour_of(binary: &str) -> RGBColor {
    match (binary, crate::models::colour(binary)) {
        (_, Some(model::Colour(r, g, b))) => RGBColor(r, g, b),
        ("nginx", None) => RGBColor(60, 150, 80),
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

/// The colours of a run of lines, one per binary in `binaries`' order: a
/// model's first line in its colour ([`colour_of`]), its second a shade
/// lighter, its third lighter again ([`lighter`]), so that two lines of
/// one model stay apart. The book's curves and the live page's lines.
pub fn shaded<'a>(binaries: impl IntoIterator<Item = &'a str>) -> Vec<RGBColor> {
    let mut seen: Vec<&str> = Vec::new();
    (binaries.into_iter())
        .map(|binary| {
            let shade = seen.iter().filter(|&&b| b == binary).count();
            seen.push(binary);
            lighter(colour_of(binary), shade)
        })
        .collect()
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

    /// A run of lines: each model's first in its colour, its next ones
    /// lighter, whatever lines of other models come between.
    #[test]
    fn a_models_further_lines_are_lighter() {
        let colours = shaded(["epoll", "poll", "epoll", "epoll"]);
        let (epoll, poll) = (colour_of("epoll"), colour_of("poll"));
        assert_eq!(colours, [epoll, poll, lighter(epoll, 1), lighter(epoll, 2)]);
        assert_ne!(epoll, lighter(epoll, 1));
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
