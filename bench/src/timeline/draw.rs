//! A recording drawn as swimlanes (SVG), and the summary line of each.

use std::fmt::Write as _;

use plotters::prelude::*;

use super::Recording;

/// A client's colour, the same in every timeline.
pub fn client_colour(client: Option<char>) -> RGBColor {
    match client {
        Some('A') => RGBColor(214, 39, 40),
        Some('B') => RGBColor(31, 119, 180),
        Some('C') => RGBColor(44, 160, 44),
        Some('D') => RGBColor(255, 127, 14),
        _ => RGBColor(150, 150, 150),
    }
}

/// What the choreography's clients do, for the legend under each timeline.
pub const LEGEND: &[(char, &str)] = &[
    ('A', "GET /delay/300"),
    ('B', "a request head in 3 pieces"),
    ('C', "GET /numbers.txt, twice"),
    ('D', "GET /cpu/100000"),
];

/// Draws `recording` as an SVG swimlane chart at `path`, `span` seconds
/// wide from the choreography's start (the same span for every server, so
/// two timelines can be laid side by side): the clients' lanes on top, a
/// lane per server thread or process below, a bar for each call that took
/// visible time (its name on it where it fits), a tick for a quick one.
pub fn svg(recording: &Recording, path: &std::path::Path, span: f64) -> Result<(), String> {
    let lanes = recording.lanes();
    let rows = CLIENTS.len() as i32 + lanes.len() as i32;
    let height = (TOP + rows * LANE_H + 60) as u32;
    let root = SVGBackend::new(path, (WIDTH as u32, height)).into_drawing_area();
    let chart = Swimlanes {
        root,
        recording,
        span,
        bottom: TOP + rows * LANE_H,
    };
    let failed = |e: String| format!("{}: {e}", path.display());
    chart.frame().map_err(failed)?;
    for (row, client) in CLIENTS.iter().enumerate() {
        chart.client_lane(row as i32, *client).map_err(failed)?;
    }
    for (row, tid) in lanes.iter().enumerate() {
        let row = CLIENTS.len() as i32 + row as i32;
        chart.server_lane(row, *tid).map_err(failed)?;
    }
    chart.root.present().map_err(|e| failed(e.to_string()))
}

/// The clients, one lane each, on top.
const CLIENTS: [char; 4] = ['A', 'B', 'C', 'D'];
/// The geometry: where lanes start, their height, the picture's width.
const LEFT: i32 = 150;
const TOP: i32 = 40;
const LANE_H: i32 = 26;
const WIDTH: i32 = 1100;

/// One timeline being drawn.
struct Swimlanes<'a, 'b> {
    root: DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    recording: &'a Recording,
    /// Seconds the width stands for.
    span: f64,
    /// The lanes' bottom edge, where the time axis is labelled.
    bottom: i32,
}

/// One drawing step, its error as text.
fn drew<E: std::fmt::Display>(result: Result<(), E>) -> Result<(), String> {
    result.map_err(|e| e.to_string())
}

impl Swimlanes<'_, '_> {
    /// `t` (seconds since the epoch) as a pixel column.
    fn x(&self, t: f64) -> i32 {
        LEFT + (((t - self.recording.zero) / self.span) * f64::from(WIDTH - LEFT - 20)) as i32
    }

    /// The background, the title, and the time axis: a tick every 50 ms.
    fn frame(&self) -> Result<(), String> {
        drew(self.root.fill(&WHITE))?;
        let title = format!("{}: who waits, on one time axis", self.recording.server);
        let font = ("sans-serif", 16).into_font();
        drew(self.root.draw(&Text::new(title, (10, 10), font)))?;
        let small = ("sans-serif", 10).into_font();
        let mut ms = 0;
        while f64::from(ms) / 1000.0 <= self.span {
            let at = self.x(self.recording.zero + f64::from(ms) / 1000.0);
            let line = vec![(at, TOP), (at, self.bottom)];
            drew(
                self.root
                    .draw(&PathElement::new(line, RGBColor(230, 230, 230))),
            )?;
            let label = Text::new(
                format!("{ms} ms"),
                (at - 12, self.bottom + 6),
                small.clone(),
            );
            drew(self.root.draw(&label))?;
            ms += 50;
        }
        Ok(())
    }

    /// A client's lane: its name and what it does, and a dot per event,
    /// named.
    fn client_lane(&self, row: i32, client: char) -> Result<(), String> {
        let y = TOP + row * LANE_H + LANE_H / 2;
        let colour = client_colour(Some(client));
        let what = LEGEND
            .iter()
            .find(|(c, _)| *c == client)
            .map_or("", |(_, w)| w);
        let (font, small) = (
            ("sans-serif", 13).into_font(),
            ("sans-serif", 10).into_font(),
        );
        let name = Text::new(format!("client {client}"), (8, y - 7), font.color(&colour));
        drew(self.root.draw(&name))?;
        drew(
            self.root
                .draw(&Text::new(what.to_string(), (8, y + 5), small.clone())),
        )?;
        // Each event a dot. Each label goes above the lane, or below it,
        // wherever it does not run into one already placed; failing both,
        // further right.
        let mut placed: Vec<(bool, i32, i32)> = Vec::new(); // (below, from, to)
        for event in self.recording.events.iter().filter(|e| e.client == client) {
            let at = self.x(event.at);
            drew(self.root.draw(&Circle::new((at, y), 4, colour.filled())))?;
            let width = 6 * event.what.len() as i32;
            let free = |below: bool, from: i32| {
                !placed
                    .iter()
                    .any(|&(b, f, t)| b == below && from < t + 4 && f < from + width)
            };
            let mut from = at + 5;
            let below = loop {
                match (free(false, from), free(true, from)) {
                    (true, _) => break false,
                    (false, true) => break true,
                    (false, false) => from += 10,
                }
            };
            placed.push((below, from, from + width));
            let label_y = if below { y + 5 } else { y - 14 };
            let label = Text::new(event.what.clone(), (from, label_y), small.clone());
            drew(self.root.draw(&label))?;
        }
        Ok(())
    }

    /// A server thread's lane: a bar per call, coloured by the client it
    /// served, named where the name fits; a tick for a quick one.
    fn server_lane(&self, row: i32, tid: u32) -> Result<(), String> {
        let (y0, y1) = (TOP + row * LANE_H + 4, TOP + (row + 1) * LANE_H - 4);
        let (font, small) = (
            ("sans-serif", 13).into_font(),
            ("sans-serif", 10).into_font(),
        );
        let name = Text::new(self.recording.lane_name(tid), (8, y0 + 4), font);
        drew(self.root.draw(&name))?;
        for call in self.recording.calls.iter().filter(|c| c.tid == tid) {
            let a = self.x(call.start).max(LEFT);
            let b = self.x(call.start + call.duration).max(LEFT);
            let colour = client_colour(call.client);
            if b - a < 3 {
                let tick = PathElement::new(vec![(a, y0), (a, y1)], colour.stroke_width(1));
                drew(self.root.draw(&tick))?;
                continue;
            }
            let bar = Rectangle::new([(a, y0), (b, y1)], colour.mix(0.55).filled());
            drew(self.root.draw(&bar))?;
            if b - a > 8 * call.name.len() as i32 {
                let label = Text::new(call.name.clone(), (a + 3, y0 + 3), small.clone());
                drew(self.root.draw(&label))?;
            }
        }
        Ok(())
    }
}

/// What `bench timeline` prints at the end: a line per server with its
/// lanes and calls.
pub fn summary(recordings: &[Recording]) -> String {
    let mut out = String::new();
    for r in recordings {
        let attributed = r.calls.iter().filter(|c| c.client.is_some()).count();
        let _ = writeln!(
            out,
            "- `{}`: {} lanes, {} calls ({} on a client's fd)",
            r.server,
            r.lanes().len(),
            r.calls.len(),
            attributed
        );
    }
    out
}
