//! `conform run --repeat N`: the same selection N times over, every scenario in a fresh
//! environment each time, and how often each one failed. A race then shows as `1/50 failed`
//! rather than as one bad run in seven.

use std::sync::Arc;

use scenarios::Run;

use super::execute::{self, Job};
use crate::progress::Progress;

/// What the rounds of a run came to, scenario by scenario, in selection order.
#[derive(Debug)]
pub struct Tally {
    rounds: u32,
    scenarios: Vec<Record>,
}

#[derive(Debug)]
struct Record {
    id: &'static str,
    failed: u32,
    /// The run the reports show: the last one that failed, or the last one.
    shown: Option<Run>,
}

/// Runs `work` `rounds` times, at most `jobs` scenarios at once. Each round gets a runtime of
/// its own, so nothing a round left running outlives it into the next.
pub fn run_rounds(work: &[Job], jobs: usize, rounds: u32) -> anyhow::Result<Tally> {
    let mut tally = Tally {
        rounds,
        scenarios: work
            .iter()
            .map(|(scenario, _)| Record {
                id: scenario.id,
                failed: 0,
                shown: None,
            })
            .collect(),
    };
    for round in 1..=rounds {
        if rounds > 1 {
            say!("round {round}/{rounds}");
        }
        let progress = Arc::new(Progress::new(work.len(), ("passed", "failed")));
        let shown = progress.clone();
        let runs = execute::run_jobs(
            work.to_vec(),
            jobs,
            Arc::new(move |run| shown.step(run.passed(), Some(execute::line(run)), !run.passed())),
        );
        progress.finish();
        tally.count(runs);
    }
    Ok(tally)
}

impl Tally {
    fn count(&mut self, runs: Vec<Run>) {
        for run in runs {
            let Some(record) = self.scenarios.iter_mut().find(|r| r.id == run.scenario.id) else {
                continue;
            };
            let failed = !run.passed();
            if failed {
                record.failed += 1;
            }
            if failed || record.failed == 0 {
                record.shown = Some(run);
            }
        }
    }

    /// The runs the reports are made of, one per scenario: its last failed run, or its last
    /// run when it never failed. A scenario that failed in any round fails in the reports.
    pub fn shown(&self) -> Vec<Run> {
        self.scenarios
            .iter()
            .filter_map(|r| r.shown.clone())
            .collect()
    }

    /// Prints how often each scenario failed, then one line for the whole run.
    pub fn print(&self) {
        let width = self.scenarios.iter().map(|r| r.id.len()).max().unwrap_or(0);
        for record in &self.scenarios {
            say!(
                "{:<width$}  {}/{} failed",
                record.id,
                record.failed,
                self.rounds
            );
        }
        let failing: Vec<String> = self
            .scenarios
            .iter()
            .filter(|r| r.failed > 0)
            .map(|r| format!("{} ({}/{})", r.id, r.failed, self.rounds))
            .collect();
        if failing.is_empty() {
            say!("{} runs: all passed", self.rounds);
        } else {
            say!("{} runs: failed: {}", self.rounds, failing.join(", "));
        }
    }
}
