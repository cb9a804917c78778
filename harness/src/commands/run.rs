use std::process::ExitCode;
use std::sync::Arc;

use fixtures::Catalog;
use reports::{
    Assembly, CatalogEntry, FaultInput, Observation, Outcome as ReportOutcome, ScenarioInput,
};
use scenarios::{FaultSet, Outcome, Run};
use tokio::sync::Semaphore;

use crate::UsageError;
use crate::cli::RunArgs;
use crate::selection;

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::load()?;
    let picked = selection::select(&catalog, &args.suites, &args.scenarios, &args.requirements)?;
    let faults = selection::faults(&args.faults)?;
    prepare_report_dir(&args.report_dir)?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);

    for fault in faults.iter() {
        say!("fault switched on: {fault} ({})", fault.breaks());
    }
    let runs = super::runtime()?.block_on(run_all(&picked.scenarios, &faults, jobs));

    let report = assemble(&catalog, &picked.described, &faults, &runs).into_report();
    let written = reports::write_all(&report, &args.report_dir)?;
    let s = report.summary;
    say!(
        "{} passed, {} failed, {} skipped",
        s.passed,
        s.failed,
        s.skipped
    );
    for fault in &report.faults {
        match fault.killed_by.as_slice() {
            [] => say!("fault {} survived: no scenario failed under it", fault.name),
            by => say!("fault {} caught by: {}", fault.name, by.join(", ")),
        }
    }
    if let Some(first) = written.first().and_then(|p| p.parent()) {
        say!("reports written to {}", first.display());
    }
    if args.gate {
        if report.gate.passed {
            say!("gate passed");
            return Ok(ExitCode::SUCCESS);
        }
        say!("gate failed:");
        for reason in &report.gate.reasons {
            say!("  - {reason}");
        }
        return Ok(ExitCode::from(1));
    }
    Ok(if s.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Creates the report directory and proves it writable before anything runs, so a bad path
/// costs a second, not a whole run.
fn prepare_report_dir(dir: &std::path::Path) -> Result<(), UsageError> {
    let unwritable = |e: std::io::Error| {
        UsageError(format!("report dir {} is not writable: {e}", dir.display()))
    };
    std::fs::create_dir_all(dir).map_err(unwritable)?;
    let probe = dir.join(".conform-write-probe");
    std::fs::write(&probe, b"").map_err(unwritable)?;
    std::fs::remove_file(&probe).map_err(unwritable)
}

async fn run_all(
    picked: &[&'static scenarios::Scenario],
    faults: &FaultSet,
    jobs: usize,
) -> Vec<Run> {
    let slots = Arc::new(Semaphore::new(jobs));
    let mut running = tokio::task::JoinSet::new();
    for (order, &scenario) in picked.iter().enumerate() {
        let slots = slots.clone();
        let faults = faults.clone();
        running.spawn(async move {
            let _slot = slots.acquire_owned().await;
            let run = scenarios::run(scenario, faults).await;
            print_line(&run);
            (order, run)
        });
    }
    let mut runs = Vec::with_capacity(picked.len());
    while let Some(done) = running.join_next().await {
        if let Ok(done) = done {
            runs.push(done);
        }
    }
    runs.sort_by_key(|(order, _)| *order);
    runs.into_iter().map(|(_, run)| run).collect()
}

fn print_line(run: &Run) {
    let ms = run.duration.as_millis();
    match &run.outcome {
        Outcome::Passed => say!("PASS  {}  ({ms} ms)", run.scenario.id),
        Outcome::Failed(failure) => {
            let tag = if failure.is_harness() {
                "ERROR"
            } else {
                "FAIL "
            };
            say!("{tag} {}  ({ms} ms)\n      {failure}", run.scenario.id);
        }
    }
}

fn assemble(catalog: &Catalog, selection: &str, faults: &FaultSet, runs: &[Run]) -> Assembly {
    Assembly {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        selection: selection.to_owned(),
        faults_on: faults.iter().map(|f| f.name().to_owned()).collect(),
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
        faults: faults
            .iter()
            .map(|f| FaultInput {
                name: f.name().to_owned(),
                breaks: f.breaks().to_owned(),
                killed_by: runs
                    .iter()
                    .filter(|r| r.caught_a_violation())
                    .map(|r| r.scenario.id.to_owned())
                    .collect(),
            })
            .collect(),
        findings: Vec::new(),
    }
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
