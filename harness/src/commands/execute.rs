//! Runs scenario jobs in parallel (a fresh environment each, as `scenarios::run` makes one)
//! and turns what ran into the report's inputs.

use std::sync::{Arc, Mutex};

use fixtures::Catalog;
use reports::{
    Assembly, Attachment, CatalogEntry, FaultInput, FaultRun, GateInputs, Matrix, MatrixRow,
    NamedCheck, Observation, Outcome as ReportOutcome, ScenarioInput,
};
use scenarios::{Failure, Fault, FaultSet, FaultVerdict, Outcome, Run, Scenario};

/// One scenario under one set of faults.
pub type Job = (&'static Scenario, FaultSet);

/// Runs every job, at most `slots` at once, calling `done` as each finishes; never stops
/// early. Each run gets an OS thread and a runtime of its own (`scenarios::run`), so a panic
/// or a hang stays in its run. Runs come back in job order.
pub fn run_jobs(jobs: Vec<Job>, slots: usize, done: Arc<dyn Fn(&Run) + Send + Sync>) -> Vec<Run> {
    let total = jobs.len();
    let queue = Mutex::new(jobs.into_iter().enumerate());
    let finished = Mutex::new(Vec::with_capacity(total));
    std::thread::scope(|scope| {
        for _ in 0..slots.clamp(1, total.max(1)) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                    let Some((order, (scenario, faults))) = next else {
                        break;
                    };
                    let run = scenarios::run(scenario, faults);
                    done(&run);
                    finished
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((order, run));
                }
            });
        }
    });
    let mut runs = finished.into_inner().unwrap_or_else(|p| p.into_inner());
    runs.sort_by_key(|(order, _)| *order);
    runs.into_iter().map(|(_, run)| run).collect()
}

/// What every run under `fault` said of it: the kill matrix's row.
pub fn fault_input(fault: Fault, runs: &[Run]) -> FaultInput {
    let mut input = FaultInput {
        name: fault.name().to_owned(),
        breaks: fault.breaks().to_owned(),
        ..FaultInput::default()
    };
    for run in runs.iter().filter(|r| r.faults.is_on(fault)) {
        let scenario = run.scenario.id.to_owned();
        let row = |by: String| FaultRun {
            scenario: scenario.clone(),
            by,
        };
        match run.verdict_on(fault) {
            FaultVerdict::Caught => input.killed_by.push(scenario.clone()),
            FaultVerdict::FailedElsewhere(check) => input.failed_elsewhere.push(row(check)),
            FaultVerdict::BrokeSetup(step) => input.broke_setup.push(row(step)),
            FaultVerdict::TimedOut(what) => input.timed_out.push(row(what)),
            FaultVerdict::HarnessError(why) => input.harness_errors.push(row(why)),
            FaultVerdict::Survived => {}
        }
    }
    input
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
        Outcome::Skipped(why) => format!("SKIP  {}  ({ms} ms)\n      {why}", run.scenario.id),
        Outcome::Failed(failure) => {
            let tag = match failure {
                Failure::Violation { .. } => "FAIL ",
                Failure::Precondition { .. } => "SETUP",
                Failure::Timeout { .. } => "HUNG ",
                Failure::Harness(_) => "ERROR",
            };
            format!("{tag} {}  ({ms} ms)\n      {failure}", run.scenario.id)
        }
    }
}

/// Where a run's attachment is written, relative to the report's directory.
fn attachment_path(run: &Run, attachment: &scenarios::Attachment) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!(
        "attachments/{}/{}",
        safe(run.scenario.id),
        safe(&attachment.name)
    )
}

/// Writes every file the shown runs left as evidence into `dir`, where the report names them.
pub fn write_attachments(runs: &[Run], dir: &std::path::Path) -> anyhow::Result<()> {
    for run in runs {
        for attachment in &run.attachments {
            let path = dir.join(attachment_path(run, attachment));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, &attachment.bytes)?;
        }
    }
    Ok(())
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
        inputs: GateInputs::load(fixtures::Source::current())?,
        secrets: Vec::new(),
    })
}

fn scenario_input(run: &Run) -> ScenarioInput {
    let (outcome, harness_error) = match &run.outcome {
        Outcome::Passed => (ReportOutcome::Passed, false),
        Outcome::Failed(failure) => (ReportOutcome::Failed, failure.is_harness()),
        Outcome::Skipped(_) => (ReportOutcome::Skipped, false),
    };
    let s = run.scenario;
    ScenarioInput {
        id: s.id.to_owned(),
        suite: s.suite.name().to_owned(),
        title: s.title.to_owned(),
        requirements: s.requirements.iter().map(|r| (*r).to_owned()).collect(),
        catches: s
            .catches
            .iter()
            .map(|c| c.fault.name().to_owned())
            .collect(),
        named_checks: s
            .catches
            .iter()
            .map(|c| NamedCheck {
                fault: c.fault.name().to_owned(),
                check: c.check.to_owned(),
            })
            .collect(),
        outcome,
        harness_error,
        failure_kind: run.kind().map(|k| k.name().to_owned()),
        failed_check: run.failure().and_then(Failure::check).map(str::to_owned),
        duration_ms: u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX),
        detail: run.detail(),
        attachments: run
            .attachments
            .iter()
            .map(|a| Attachment {
                name: a.name.clone(),
                path: attachment_path(run, a),
                media_type: a.media_type.clone(),
            })
            .collect(),
        evidence: run
            .evidence
            .iter()
            .map(|o| Observation {
                what: o.what.clone(),
                value: o.value.clone(),
            })
            .collect(),
        matrix: run
            .matrices
            .iter()
            .map(|m| Matrix {
                dimension: m.dimension.clone(),
                rows: m
                    .rows
                    .iter()
                    .map(|r| MatrixRow {
                        item: r.item.clone(),
                        case: r.case.clone(),
                        outcome: r.outcome.clone(),
                    })
                    .collect(),
            })
            .collect(),
        capture: run.capture.as_ref().map(capture_link),
    }
}

/// The run's capture as the report links it: paths as given to `--capture` (relative ones
/// stay relative), and the exchange behind a failed verdict.
fn capture_link(capture: &scenarios::RunCapture) -> reports::CaptureLink {
    let exchange = capture.exchange.as_ref();
    reports::CaptureLink {
        pcapng: capture.files.pcapng.display().to_string(),
        key_log: capture.files.key_log.display().to_string(),
        check: exchange.and_then(|e| e.check.clone()),
        filter: exchange.map(|e| e.filter.clone()),
        exchange: exchange.map(|e| e.words.clone()),
    }
}
