//! The curves of the sweeps: a line per server in its model's colour, and
//! the lessons' charts of the idle sweep.

// The parent's figures and types: this is its third part.
use super::*;

/// The curves.
pub(super) fn draw(out: &Path, run: &Run) -> Result<(), String> {
    for sweep in [&run.idle, &run.concurrency] {
        for figure in figures(sweep) {
            let path = out.join(format!("{}-{}.svg", sweep.name, figure.0));
            draw_figure(&path, sweep, figure)?;
        }
    }
    // The lessons' charts of the idle sweep: the same curves, of the model
    // and its neighbours only, for the figure the lesson reads.
    for lesson in lesson::LESSONS {
        let Measure::IdleSweep(name) = lesson.measure else {
            continue;
        };
        let figure = FIGURES
            .into_iter()
            .find(|f| f.1 == name)
            .ok_or_else(|| format!("{}: no figure {name}", lesson.file()))?;
        let shown = Ladder {
            name: run.idle.name.clone(),
            points: run.idle.points.clone(),
            rows: (run.idle.rows.iter())
                .filter(|(v, _)| lesson.shows(&v.binary, &v.name))
                .cloned()
                .collect(),
        };
        draw_figure(&out.join(lesson.file()), &shown, figure)?;
    }
    // Read before the busy clients connect: n connections held.
    let lines = lines(&run.idle, |n, cell| {
        Some((n as f64, figure(cell, "rss_mb")?, spread(cell, "rss_mb")))
    });
    chart::lines(
        &out.join("memory.svg"),
        "server memory against connections held (idle sweep)",
        ("connections held", Axis::Linear),
        ("resident memory, MB (lower is better)", Axis::Log),
        &lines,
    )
}

/// One figure of `sweep` as curves, a line per server of it, into `path`.
fn draw_figure(path: &Path, sweep: &Ladder, figure: Figure) -> Result<(), String> {
    let (_, name, what, better, y_axis) = figure;
    let (x_desc, x_axis) = match sweep.name.as_str() {
        "idle-sweep" => (
            format!("idle connections, beside {BUSY} busy keep-alive clients"),
            Axis::Linear,
        ),
        _ => ("keep-alive connections (c)".to_string(), Axis::Log),
    };
    let lines = lines(sweep, |n, cell| {
        Some((n as f64, self::figure(cell, name)?, spread(cell, name)))
    });
    chart::lines(
        path,
        &format!("{what} against {}", sweep_words(sweep)),
        (&x_desc, x_axis),
        (&format!("{what} ({better})"), y_axis),
        &lines,
    )
}

fn sweep_words(sweep: &Ladder) -> &'static str {
    match sweep.name.as_str() {
        "idle-sweep" => "idle connections",
        _ => "concurrency",
    }
}

/// (x, the median, the spread of the rounds) of one step.
type Step = (f64, f64, Option<(f64, f64)>);

/// A line per server that reached two steps or more: `at` turns a step and
/// its cell into a point, or `None`.
fn lines(sweep: &Ladder, at: impl Fn(usize, &Cell) -> Option<Step>) -> Vec<Line> {
    let colours = chart::shaded(sweep.rows.iter().map(|(v, _)| v.binary.as_str()));
    (sweep.rows.iter().zip(colours))
        .filter_map(|((variant, cells), colour)| {
            let points: Vec<_> = sweep
                .points
                .iter()
                .zip(cells)
                .filter_map(|(&n, cell)| {
                    let (x, y, spread) = at(n, cell)?;
                    Some(chart::Point {
                        x,
                        y,
                        spread,
                        client_bound: cell.client_bound(),
                    })
                })
                .collect();
            (points.len() >= 2).then(|| Line {
                name: variant.name.clone(),
                colour,
                dashed: !variant.args.is_empty(),
                points,
            })
        })
        .collect()
}
