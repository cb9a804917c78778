//! Builds the model from what ran: requirement statuses, fault kills and the gate are computed
//! here, once, and every format shows the same verdicts.

use std::collections::BTreeMap;

use crate::model::{
    FaultResult, Finding, Gate, Observation, Outcome, Report, RequirementResult, RunInfo, SCHEMA,
    ScenarioResult, Status, Summary,
};

/// A requirement of the catalog.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub id: String,
    pub kind: String,
    pub text: String,
}

/// One scenario run, as the runner reports it.
#[derive(Debug, Clone)]
pub struct ScenarioInput {
    pub id: String,
    pub suite: String,
    pub title: String,
    pub requirements: Vec<String>,
    pub catches: Vec<String>,
    pub outcome: Outcome,
    pub harness_error: bool,
    pub duration_ms: u64,
    pub detail: String,
    pub evidence: Vec<Observation>,
}

/// A fault that was switched on, and the scenarios that failed under it.
#[derive(Debug, Clone)]
pub struct FaultInput {
    pub name: String,
    pub breaks: String,
    pub killed_by: Vec<String>,
}

/// Everything a report is made from.
#[derive(Debug, Clone)]
pub struct Assembly {
    pub version: String,
    pub selection: String,
    pub faults_on: Vec<String>,
    pub catalog: Vec<CatalogEntry>,
    pub scenarios: Vec<ScenarioInput>,
    pub faults: Vec<FaultInput>,
    pub findings: Vec<Finding>,
}

impl Assembly {
    pub fn into_report(self) -> Report {
        let mut covering: BTreeMap<&str, Vec<&ScenarioInput>> = BTreeMap::new();
        for scenario in &self.scenarios {
            for r in &scenario.requirements {
                covering.entry(r.as_str()).or_default().push(scenario);
            }
        }
        let requirements: Vec<RequirementResult> = self
            .catalog
            .iter()
            .map(|entry| {
                let runs = covering.get(entry.id.as_str()).cloned().unwrap_or_default();
                let ran: Vec<_> = runs
                    .iter()
                    .filter(|s| s.outcome != Outcome::Skipped)
                    .collect();
                let status = if ran.is_empty() {
                    Status::Uncovered
                } else if ran.iter().all(|s| s.outcome == Outcome::Passed) {
                    Status::Verified
                } else {
                    Status::Failed
                };
                RequirementResult {
                    id: entry.id.clone(),
                    kind: entry.kind.clone(),
                    text: entry.text.clone(),
                    status,
                    scenarios: runs.iter().map(|s| s.id.clone()).collect(),
                }
            })
            .collect();

        let count = |o: Outcome| self.scenarios.iter().filter(|s| s.outcome == o).count();
        let summary = Summary {
            scenarios: self.scenarios.len(),
            passed: count(Outcome::Passed),
            failed: count(Outcome::Failed),
            skipped: count(Outcome::Skipped),
        };

        let faults: Vec<FaultResult> = self
            .faults
            .into_iter()
            .map(|f| FaultResult {
                name: f.name,
                breaks: f.breaks,
                killed_by: f.killed_by,
            })
            .collect();
        let gate = gate(
            &self.scenarios,
            &requirements,
            &faults,
            !self.faults_on.is_empty(),
        );

        Report {
            schema: SCHEMA.to_owned(),
            tool: "conform".to_owned(),
            version: self.version,
            run: RunInfo {
                selection: self.selection,
                faults_on: self.faults_on,
            },
            summary,
            scenarios: self
                .scenarios
                .into_iter()
                .map(|s| ScenarioResult {
                    id: s.id,
                    suite: s.suite,
                    title: s.title,
                    requirements: s.requirements,
                    outcome: s.outcome,
                    duration_ms: s.duration_ms,
                    detail: s.detail,
                    harness_error: s.harness_error,
                    evidence: s.evidence,
                    catches: s.catches,
                })
                .collect(),
            requirements,
            faults,
            findings: self.findings,
            gate,
        }
    }
}

/// The release gate: every scenario passed, every requirement verified, every fault that was
/// tried killed, and the run made with no fault switched on.
fn gate(
    scenarios: &[ScenarioInput],
    requirements: &[RequirementResult],
    faults: &[FaultResult],
    faulted_run: bool,
) -> Gate {
    let mut reasons = Vec::new();
    if faulted_run {
        reasons.push(
            "the run was made with fault switches on: it says nothing of a release".to_owned(),
        );
    }
    for s in scenarios.iter().filter(|s| s.outcome == Outcome::Failed) {
        reasons.push(format!("scenario {} failed: {}", s.id, s.detail));
    }
    for r in requirements {
        match r.status {
            Status::Verified => {}
            Status::Failed => reasons.push(format!("requirement {} failed", r.id)),
            Status::Uncovered => reasons.push(format!("requirement {} is uncovered", r.id)),
        }
    }
    for f in faults.iter().filter(|f| f.killed_by.is_empty()) {
        reasons.push(format!(
            "fault {} survived: no scenario failed under it",
            f.name
        ));
    }
    Gate {
        passed: reasons.is_empty(),
        reasons,
    }
}
