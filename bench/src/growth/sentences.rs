//! The sentences of `sweeps.md` that read its tables, per model and the
//! headline, each from the figures it reads.

// The parent's tables, figures and types: this is its second half.
use super::*;

/// A model's own rows, and the sentences that read them.
pub(super) fn growth(run: &Run, binary: &str) -> String {
    let mine = |sweep| rows(sweep, |v| v.binary == binary);
    let mut text = String::new();
    for sentence in read_idle(run, binary)
        .into_iter()
        .chain(read_memory(run, binary))
        .chain(read_concurrency(run, binary))
    {
        text.push_str(&format!("- {sentence}\n"));
    }
    text.push_str("\nCPU µs per request beside idle connections:\n\n");
    text.push_str(&table(&run.idle, "cpu_us", &mine(&run.idle)));
    text.push_str("\nRequests per second by concurrency:\n\n");
    text.push_str(&table(&run.concurrency, "value", &mine(&run.concurrency)));
    text.push_str("\nMemory against connections held:\n\n");
    text.push_str(&memory_table(run, &mine(&run.idle)));
    text.push_str(&legend(run));
    text
}

/// The default variant's row of a sweep.
fn default_row<'a>(sweep: &'a Ladder, binary: &str) -> Option<&'a (Variant, Vec<Cell>)> {
    sweep
        .rows
        .iter()
        .find(|(v, _)| v.binary == binary && v.args.is_empty())
}

/// The highest step a row reached, with its cell.
fn highest<'a>(sweep: &Ladder, cells: &'a [Cell]) -> Option<(usize, &'a Cell)> {
    sweep
        .points
        .iter()
        .zip(cells)
        .rev()
        .find(|(_, c)| !c.rounds().is_empty())
        .map(|(&n, c)| (n, c))
}

/// "Beside 10,000 idle connections a request cost 985 µs of CPU, 150× its
/// 6.3 µs with none."
fn read_idle(run: &Run, binary: &str) -> Option<String> {
    let (variant, cells) = default_row(&run.idle, binary)?;
    let base = figure(cells.first()?, "cpu_us")?;
    let (n, top) = highest(&run.idle, cells)?;
    let at_top = figure(top, "cpu_us")?;
    if n == 0 {
        return None;
    }
    let why_not = run
        .idle
        .points
        .iter()
        .zip(cells)
        .find_map(|(&m, c)| match c {
            Cell::Cannot { why } | Cell::Failed { why } if m > n => {
                Some(format!(" (it did not go further: {why})"))
            }
            _ => None,
        })
        .unwrap_or_default();
    Some(format!(
        "**Idle connections.** With {} busy clients and {} idle connections beside them, \
         a request cost `{}` {} µs of CPU, {:.1} times the {} µs it cost with none{}.",
        BUSY,
        chart::thousands(n as f64),
        variant.name,
        short(at_top),
        at_top / base,
        short(base),
        why_not
    ))
}

/// The step of the idle sweep the book's headline reads: 10,000 idle
/// connections, where `select` has long stopped and a thread per
/// connection still runs.
const HEADLINE_STEP: usize = 10_000;

/// "At 10,000 idle connections, a request cost `poll` X µs of CPU, N
/// times its cost with none; `epoll` ...": poll, epoll and uring, the
/// default variants, at [`HEADLINE_STEP`] (or the highest step of a
/// shorter ladder).
pub(super) fn headline(run: &Run) -> String {
    let step = match run.idle.points.contains(&HEADLINE_STEP) {
        true => HEADLINE_STEP,
        false => *run.idle.points.iter().max().unwrap_or(&0),
    };
    let Some(at) = run.idle.points.iter().position(|&n| n == step) else {
        return String::new();
    };
    let parts: Vec<String> = ["poll", "epoll", "uring"]
        .iter()
        .filter_map(|binary| {
            let (variant, cells) = default_row(&run.idle, binary)?;
            let base = figure(cells.first()?, "cpu_us")?;
            let cost = figure(cells.get(at)?, "cpu_us")?;
            Some(format!(
                "`{}` {} µs, {:.1} times its {} µs with none",
                variant.name,
                short(cost),
                cost / base,
                short(base)
            ))
        })
        .collect();
    match parts.is_empty() {
        true => String::new(),
        false => format!(
            "With {} idle connections beside {BUSY} busy clients, a request cost {}.\n",
            chart::thousands(step as f64),
            parts.join("; ")
        ),
    }
}

/// "Memory grew by 247 bytes per connection held, from 7.5 MB with none."
fn read_memory(run: &Run, binary: &str) -> Option<String> {
    let (variant, cells) = default_row(&run.idle, binary)?;
    let line = memory_line(&run.idle.points, cells)?;
    Some(format!(
        "**Memory.** `{}` grew by {} bytes of resident memory per connection held (the \
         slope through {} steps up to {} connections), from {:.1} MB with none.",
        variant.name,
        chart::thousands(line.bytes_per_connection),
        cells.iter().filter(|c| !c.rounds().is_empty()).count(),
        chart::thousands(line.held as f64),
        line.empty_bytes / 1e6
    ))
}

/// "From c1 to c10,000 the rate went from A to B req/s; a request cost
/// C µs of CPU and D context switches at the top."
fn read_concurrency(run: &Run, binary: &str) -> Option<String> {
    let (variant, cells) = default_row(&run.concurrency, binary)?;
    let first = cells.first()?;
    let (n, top) = highest(&run.concurrency, cells)?;
    if n == *run.concurrency.points.first()? {
        // One step only: a model that serves a connection or a pool's
        // worth at a time.
        let why = cells.iter().find_map(|c| match c {
            Cell::Cannot { why } | Cell::Failed { why } => Some(why.as_str()),
            _ => None,
        })?;
        return Some(format!(
            "**Concurrency.** `{}` was measured at c{n} only ({why}): {} requests a \
             second{}, at {} µs of CPU each.",
            variant.name,
            chart::thousands(figure(top, "value")?),
            match top.client_bound() {
                true => " (client-bound)",
                false => "",
            },
            short(figure(top, "cpu_us")?),
        ));
    }
    let bound = match top.client_bound() {
        true => " (the bench was the limit there: client-bound)",
        false => "",
    };
    Some(format!(
        "**Concurrency.** From c{} to c{}, `{}` answered {} then {} requests a second{}; \
         a request cost {} then {} µs of CPU and {} then {} context switches, and p99 \
         latency went from {} to {} ms.",
        run.concurrency.points.first()?,
        chart::thousands(n as f64),
        variant.name,
        chart::thousands(figure(first, "value")?),
        chart::thousands(figure(top, "value")?),
        bound,
        short(figure(first, "cpu_us")?),
        short(figure(top, "cpu_us")?),
        figure(first, "context_switches").map_or("-".to_string(), short),
        figure(top, "context_switches").map_or("-".to_string(), short),
        short(figure(first, "p99_ms")?),
        short(figure(top, "p99_ms")?),
    ))
}
