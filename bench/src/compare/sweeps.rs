//! Running the sweeps (`compare --sweeps`, and a short ladder after
//! `--quick`): every server up each ladder of [`Sweep::ALL`], in rounds, a
//! fresh server for each climb; then `sweeps.json` and what
//! [`crate::growth`] draws from it.

use std::path::Path;
use std::time::{Duration, Instant};

use super::record::{self, Row, SweepRecord, SweepsRecord, failures};
use super::{Cell, Progress, SERVER_ARGS, Sweep, Variant, Workspace};
use crate::machine::Machine;

/// What the sweeps run on: the servers, which of them cannot run here and
/// why, and the machine, recorded with the run.
pub struct Sweeps<'a> {
    /// The servers.
    pub variants: &'a [Variant],
    /// For each, why this machine cannot run it (`None`: it can).
    pub unable: &'a [Option<String>],
    /// Where their binaries are.
    pub workspace: &'a Workspace,
    /// What the run is measured on.
    pub machine: &'a Machine,
}

impl Sweeps<'_> {
    /// Every variant up each ladder in `rounds` rounds (`quick`: the short
    /// ladders, 200 ms a step); `sweeps.json`, `sweeps.md` and the curves
    /// in `out`. Returns how many steps failed that should have passed.
    pub fn run(
        &self,
        rounds: usize,
        quick: bool,
        out: &Path,
        started: Instant,
    ) -> Result<usize, String> {
        let run = match quick {
            true => Duration::from_millis(200),
            false => Duration::from_secs(1),
        };
        let mut sweeps: Vec<SweepRecord> = Sweep::ALL
            .iter()
            .map(|&sweep| self.start(sweep, quick))
            .collect();
        let climbs = sweeps
            .iter()
            .flat_map(|s| &s.rows)
            .filter(|row| row.cells.iter().any(Cell::runs))
            .count();
        let mut progress = Progress::new((climbs * rounds) as u64, started);
        for round in 1..=rounds {
            for (&sweep, record) in Sweep::ALL.iter().zip(&mut sweeps) {
                for row in &mut record.rows {
                    if !row.cells.iter().any(Cell::runs) {
                        continue;
                    }
                    let began = Instant::now();
                    self.climb(sweep, &record.points, run, round, row);
                    progress.step(&format!(
                        "round {round}/{rounds}  {:<26} {:<20} {:5.1} s",
                        row.server.name,
                        sweep.name(),
                        began.elapsed().as_secs_f64()
                    ));
                }
            }
        }
        progress.finish();
        let failed = sweeps.iter().map(|s| failures(&s.rows)).sum();
        let record = SweepsRecord {
            quick,
            rounds,
            run_s: run.as_secs_f64(),
            minutes: started.elapsed().as_secs_f64() / 60.0,
            machine: Some(self.machine.clone()),
            sweeps,
        };
        record::write(&out.join("sweeps.json"), &record)?;
        crate::growth::write(out, &record)?;
        eprintln!(
            "bench compare: sweeps done at {:.1} minutes; wrote sweeps.json, sweeps.md and the curves in {}",
            started.elapsed().as_secs_f64() / 60.0,
            out.display()
        );
        Ok(failed)
    }

    /// `sweep` before its first round: its steps, and a row per server of
    /// what each cannot do or an empty run.
    fn start(&self, sweep: Sweep, quick: bool) -> SweepRecord {
        let points = sweep.points(quick);
        let rows = self
            .variants
            .iter()
            .zip(self.unable)
            .map(|(variant, unable)| Row {
                server: variant.clone(),
                cells: points
                    .iter()
                    .map(|&n| Cell::start(unable.clone().or_else(|| sweep.cannot(variant, n))))
                    .collect(),
            })
            .collect();
        SweepRecord {
            name: sweep.name().to_string(),
            axis: sweep.axis().to_string(),
            points,
            rows,
        }
    }

    /// One server up one ladder, on a server started for the climb; a
    /// server that does not start fails every step still to run.
    fn climb(&self, sweep: Sweep, points: &[usize], run: Duration, round: usize, row: &mut Row) {
        match super::start(&row.server, &SERVER_ARGS, self.workspace) {
            Ok(server) => sweep.climb(&server, points, run, round, &mut row.cells),
            Err(why) => {
                for cell in row.cells.iter_mut().filter(|c| c.runs()) {
                    let _ = cell.add(round, Err(why.clone()));
                }
            }
        }
    }
}
