//! Runs scenario jobs in parallel (a fresh environment each, as `scenarios::run` makes one)
//! and turns what ran into the report's inputs.

use std::sync::Arc;

use fixtures::Catalog;
use reports::{
    Assembly, CatalogEntry, FaultInput, GateInputs, Observation, Outcome as ReportOutcome,
    ScenarioInput,
};
use scenarios::{FaultSet, Outcome, Run, Scenario};
use tokio::sync::Semaphore;

/// One scenario under one set of faults.
pub type Job = (&'static Scenario, FaultSet);

/// Runs every job, at most `slots` at once, calling `done` as each finishes; never stops
/// early. Runs come back in job order.
pub async fn run_jobs(
    jobs: Vec<Job>,
    slots: usize,
    done: Arc<dyn Fn(&Run) + Send + Sync>,
) -> Vec<Run> {
    let slots = Arc::new(Semaphore::new(slots.max(1)));
    let mut running = tokio::task::JoinSet::new();
    let total = jobs.len();
    for (order, (scenario, faults)) in jobs.into_iter().enumerate() {
        let slots = slots.clone();
        let done = done.clone();
        running.spawn(async move {
            let _slot = slots.acquire_owned().await;
            let run = scenarios::run(scenario, faults).await;
            done(&run);
            (order, run)
        });
    }
    let mut runs = Vec::with_capacity(total);
    while let Some(finished) = running.join_next().await {
        if let Ok(finished) = finished {
            runs.push(finished);
        }
    }
    runs.sort_by_key(|(order, _)| *order);
    runs.into_iter().map(|(_, run)| run).collect()
}

/// Scenario runs at once per core when `--jobs` is not given: a scenario waits on sockets far
/// more than it computes.
const JOBS_PER_CORE: usize = 4;

pub fn default_jobs(asked: Option<usize>) -> usize {
    asked
        .unwrap_or_else(|| {
            JOBS_PER_CORE * std::thread::available_parallelism().map_or(2, |n| n.get())
        })
        .max(1)
}

/// The plain-log line of a scenario run.
pub fn line(run: &Run) -> String {
    let ms = run.duration.as_millis();
    match &run.outcome {
        Outcome::Passed => format!("PASS  {}  ({ms} ms)", run.scenario.id),
        Outcome::Failed(failure) => {
            let tag = if failure.is_harness() {
                "ERROR"
            } else {
                "FAIL "
            };
            format!("{tag} {}  ({ms} ms)\n      {failure}", run.scenario.id)
        }
    }
}

/// The report's inputs: `runs` are the verdicts shown, `faults` the kill record (if any).
pub fn assembly(
    catalog: &Catalog,
    selection: &str,
    faults_on: &FaultSet,
    runs: &[Run],
    faults: Vec<FaultInput>,
    mutants: bool,
) -> anyhow::Result<Assembly> {
    Ok(Assembly {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        selection: selection.to_owned(),
        faults_on: faults_on.iter().map(|f| f.name().to_owned()).collect(),
        catalog: catalog
            .requirements
            .iter()
            .map(|r| CatalogEntry {
                id: r.id.clone(),
                kind: r.kind.as_str().to_owned(),
                text: r.text.clone(),
            })
            .collect(),
        scenarios: runs.iter().map(scenario_input).collect(),
        faults,
        mutants,
        inputs: GateInputs::load(&fixtures::fixtures_dir())?,
        secrets: Vec::new(),
    })
}

fn scenario_input(run: &Run) -> ScenarioInput {
    let (outcome, harness_error) = match &run.outcome {
        Outcome::Passed => (ReportOutcome::Passed, false),
        Outcome::Failed(failure) => (ReportOutcome::Failed, failure.is_harness()),
    };
    let s = run.scenario;
    ScenarioInput {
        id: s.id.to_owned(),
        suite: s.suite.name().to_owned(),
        title: s.title.to_owned(),
        requirements: s.requirements.iter().map(|r| (*r).to_owned()).collect(),
        catches: s.catches.iter().map(|f| f.name().to_owned()).collect(),
        outcome,
        harness_error,
        duration_ms: u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX),
        detail: run.detail(),
        evidence: run
            .evidence
            .iter()
            .map(|o| Observation {
                what: o.what.clone(),
                value: o.value.clone(),
            })
            .collect(),
    }
}
