//! `bench compare` from its flags to its files: which servers and
//! scenarios, how long, the rounds interleaved across the servers, and the
//! record and report written at the end.

use std::path::Path;
use std::time::Instant;

use loadgen::Failure;

use super::choose::{cannot_start, scenarios, variants};
use super::record::{self, CompareRecord, Row, ScenarioRecord, failures};
use super::sweeps::Sweeps;
use super::{Cell, Durations, Progress, Scenario, Variant, Workspace};
use crate::cli::CompareArgs;
use crate::machine::Machine;

/// `bench compare`: build, then every variant through every scenario, one
/// server at a time, in rounds interleaved across the servers; the table on
/// stdout, JSON and Markdown in `--out`. Fails (exit 1) if any cell that
/// should have passed failed; a server this machine cannot run at all gets
/// `n/a` cells with its reason, and fails nothing.
pub fn command(args: CompareArgs) -> Result<(), Failure> {
    // cargo metadata, not a build: names are checked, and the paths found,
    // in a second, before anything is built.
    let workspace = super::workspace().map_err(|e| format!("cargo metadata: {e}"))?;
    let out = args.out.clone().unwrap_or_else(|| match args.quick {
        true => workspace.out(false, "compare-quick"),
        false => workspace.out(args.book, "compare"),
    });
    if args.redraw {
        return redraw(&out);
    }
    let scenarios = scenarios(&args.scenario, args.book)?;
    let variants = variants(&workspace, &args.only, args.quick)?;
    let started = Instant::now();
    let lab = Lab::prepare(&workspace, &variants, &out, args.book || args.sweeps)?;
    if args.sweeps {
        let rounds = args.rounds.unwrap_or(3) as usize;
        let failed = lab.sweeps().run(rounds, false, &out, started)?;
        return match failed {
            0 => Ok(()),
            n => Err(format!("{n} sweep step(s) failed that should have passed").into()),
        };
    }
    let (durations, default_rounds) = match (args.quick, args.book) {
        (true, _) => (Durations::QUICK, 1),
        (false, true) => (Durations::BOOK, 5),
        (false, false) => (Durations::EVERYDAY, 3),
    };
    let rounds = args.rounds.unwrap_or(default_rounds) as usize;
    let rows = lab.run(&scenarios, &durations, rounds, started);
    // The forking chapter's process-against-thread table, with the run.
    let spawn = match !args.quick && variants.iter().any(|v| v.binary == "forking") {
        true => {
            eprintln!("  the cost of a fork and of a thread (forking's example spawn_cost)");
            Some(super::spawn_cost().map_err(|e| e.to_string())?)
        }
        false => None,
    };
    let record = CompareRecord {
        quick: args.quick,
        rounds,
        run_s: durations.run.as_secs_f64(),
        hold_connections: durations.hold_connections,
        minutes: started.elapsed().as_secs_f64() / 60.0,
        machine: Some(lab.machine.clone()),
        scenarios: scenarios.iter().map(|s| ScenarioRecord::of(s)).collect(),
        rows,
        spawn,
    };
    print!("{}", super::table::text(&record));
    record::write(&out.join("compare.json"), &record)?;
    crate::report::write(&out, &record)?;
    eprintln!(
        "bench compare: {:.1} minutes; wrote compare.json, compare.md, chapters.md and the SVG charts in {}",
        started.elapsed().as_secs_f64() / 60.0,
        out.display()
    );
    let mut failed = failures(&record.rows);
    // --quick exercises the sweeps too, on a short ladder.
    if args.quick {
        failed += lab.sweeps().run(rounds, true, &out, started)?;
    }
    match failed {
        0 => Ok(()),
        n => Err(format!("{n} scenario(s) failed that should have passed").into()),
    }
}

/// The lab, ready: the servers built, the machine read and pinned, and
/// which servers cannot run here at all.
struct Lab<'a> {
    workspace: &'a Workspace,
    variants: &'a [Variant],
    /// For each variant, why this machine cannot run it (`None`: it can).
    unable: Vec<Option<String>>,
    machine: Machine,
}

impl<'a> Lab<'a> {
    /// Checks the costs can be counted (`counted`: the book's runs, which
    /// lead with them), builds the servers, raises the fd limit, pins the
    /// bench, reads the machine, and tries each server once.
    fn prepare(
        workspace: &'a Workspace,
        variants: &'a [Variant],
        out: &Path,
        counted: bool,
    ) -> Result<Lab<'a>, Failure> {
        // A run that cannot count the costs (no perf events, tracefs not
        // mounted) would write a book of "-", after 40 minutes. Say so
        // before starting instead.
        if counted {
            loadgen::cost::available().map_err(|why| {
                format!(
                    "the costs cannot be counted here ({why}); the book's runs need them \
                     (as root: mount -t tracefs nodev /sys/kernel/tracing)"
                )
            })?;
        }
        eprintln!("bench compare: building the servers (cargo build --release)");
        super::build("--bins").map_err(|e| e.to_string())?;
        plumbing::raise_fd_limit();
        let pinned = super::pin(0, 1);
        let machine = Machine::read(&workspace.root, pinned);
        // A server the machine cannot run (uring without io_uring) is
        // found here, once, and its cells say why instead of failing.
        let unable = cannot_start(variants, workspace);
        std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
        Ok(Lab {
            workspace,
            variants,
            unable,
            machine,
        })
    }

    /// The sweeps, over the same servers.
    fn sweeps(&self) -> Sweeps<'_> {
        Sweeps {
            variants: self.variants,
            unable: &self.unable,
            workspace: self.workspace,
            machine: &self.machine,
        }
    }

    /// Every variant through every scenario, `rounds` times, interleaved.
    /// Every cell starts as what the model (or the machine) cannot do, or
    /// as an empty run; each round adds a round to every cell that has not
    /// failed.
    fn run(
        &self,
        scenarios: &[&Scenario],
        durations: &Durations,
        rounds: usize,
        started: Instant,
    ) -> Vec<Row> {
        let mut rows: Vec<Row> = self
            .variants
            .iter()
            .zip(&self.unable)
            .map(|(variant, unable)| Row {
                server: variant.clone(),
                cells: scenarios
                    .iter()
                    .map(|s| {
                        Cell::start(
                            unable
                                .clone()
                                .or_else(|| s.cannot(variant, durations.quick)),
                        )
                    })
                    .collect(),
            })
            .collect();
        let to_run = rows
            .iter()
            .flat_map(|r| &r.cells)
            .filter(|c| c.runs())
            .count();
        let mut progress = Progress::new((to_run * rounds) as u64, started);
        for round in 1..=rounds {
            for row in &mut rows {
                for (scenario, cell) in scenarios.iter().zip(&mut row.cells) {
                    if !cell.runs() {
                        continue;
                    }
                    let began = Instant::now();
                    let measured = super::measure(&row.server, scenario, self.workspace, durations);
                    progress.step(&format!(
                        "round {round}/{rounds}  {:<26} {:<30} {:5.1} s",
                        row.server.name,
                        scenario.heading(),
                        began.elapsed().as_secs_f64()
                    ));
                    if let Err(why) = cell.add(round, measured) {
                        progress.note(&format!("    FAILED: {why}"));
                    }
                }
            }
        }
        progress.finish();
        rows
    }
}

/// `compare --redraw`: the tables and charts again from the saved
/// `compare.json` and `sweeps.json` in `out`, measuring nothing.
fn redraw(out: &Path) -> Result<(), Failure> {
    let compare: Option<CompareRecord> = record::read(&out.join("compare.json"))?;
    let sweeps: Option<record::SweepsRecord> = record::read(&out.join("sweeps.json"))?;
    if compare.is_none() && sweeps.is_none() {
        return Err(format!("{}: no compare.json or sweeps.json", out.display()).into());
    }
    if let Some(record) = compare {
        crate::report::write(out, &record)?;
    }
    crate::held::write(out).map_err(|e| format!("{}: {e}", out.display()))?;
    if let Some(record) = sweeps {
        crate::growth::write(out, &record)?;
    }
    Ok(())
}
