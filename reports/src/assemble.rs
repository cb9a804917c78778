//! Builds the model from what ran: requirement statuses, fault kills, findings and the gate
//! are computed here, once, and secrets are removed here, once, so every format shows the
//! same verdicts and none can leak what another hid.

use std::collections::{BTreeMap, BTreeSet};

use crate::gate::{gate, weak_spots};
use crate::inputs::GateInputs;
use crate::model::{
    Attachment, CaptureLink, FaultResult, FaultRun, Finding, Matrix, NamedCheck, Observation,
    Outcome, Report, RequirementResult, RunInfo, SCHEMA, ScenarioResult, Severity, Status, Summary,
};
use crate::redact::Redactor;

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
    /// Per declared fault (same order as `catches`), the check named for it.
    pub named_checks: Vec<NamedCheck>,
    pub outcome: Outcome,
    pub harness_error: bool,
    pub failure_kind: Option<String>,
    pub failed_check: Option<String>,
    pub duration_ms: u64,
    pub detail: String,
    pub evidence: Vec<Observation>,
    /// Files the scenario left, already written beside the report.
    pub attachments: Vec<Attachment>,
    /// For a sweep: what it covered.
    pub matrix: Vec<Matrix>,
    pub capture: Option<CaptureLink>,
}

/// A fault that was switched on, and what each scenario's run under it said of it.
#[derive(Debug, Clone, Default)]
pub struct FaultInput {
    pub name: String,
    pub breaks: String,
    pub killed_by: Vec<String>,
    pub failed_elsewhere: Vec<FaultRun>,
    pub broke_setup: Vec<FaultRun>,
    pub timed_out: Vec<FaultRun>,
    pub harness_errors: Vec<FaultRun>,
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
    /// True when `faults` is a whole kill matrix (`conform mutants`), so weak spots mean something.
    pub mutants: bool,
    /// Policy, errata (raised as findings) and known deviations.
    pub inputs: GateInputs,
    /// Exact strings known to be secret (passwords, keys the caller made); never reported.
    pub secrets: Vec<String>,
}

impl Assembly {
    pub fn into_report(self) -> Report {
        let killed: BTreeMap<&str, Vec<&str>> = self
            .faults
            .iter()
            .flat_map(|f| {
                f.killed_by
                    .iter()
                    .map(move |s| (s.as_str(), f.name.as_str()))
            })
            .fold(BTreeMap::new(), |mut by, (scenario, fault)| {
                by.entry(scenario).or_insert_with(Vec::new).push(fault);
                by
            });
        let requirements: Vec<RequirementResult> = self
            .catalog
            .iter()
            .map(|entry| requirement(entry, &self.scenarios, &killed))
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
            .iter()
            .map(|f| FaultResult {
                name: f.name.clone(),
                breaks: f.breaks.clone(),
                killed_by: f.killed_by.clone(),
                failed_elsewhere: f.failed_elsewhere.clone(),
                broke_setup: f.broke_setup.clone(),
                timed_out: f.timed_out.clone(),
                harness_errors: f.harness_errors.clone(),
            })
            .collect();
        let weak_spots = self.mutants.then(|| weak_spots(&self.scenarios, &faults));

        let mut findings = self.inputs.errata.clone();
        findings.extend(self.scenarios.iter().filter_map(scenario_finding));

        let scenarios: Vec<ScenarioResult> = self
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
                failure_kind: s.failure_kind,
                failed_check: s.failed_check,
                evidence: s.evidence,
                catches: s.catches,
                named_checks: s.named_checks,
                attachments: s.attachments,
                matrix: s.matrix,
                capture: s.capture,
            })
            .collect();
        let gate = gate(
            &scenarios,
            &requirements,
            &faults,
            &findings,
            &self.inputs,
            !self.faults_on.is_empty(),
        );

        let report = Report {
            schema: SCHEMA.to_owned(),
            tool: "conform".to_owned(),
            version: self.version,
            run: RunInfo {
                selection: self.selection,
                faults_on: self.faults_on,
            },
            summary,
            scenarios,
            requirements,
            faults,
            findings,
            deviations: self.inputs.deviations,
            policy: self.inputs.policy,
            weak_spots,
            gate,
        };
        redact(report, Redactor::new(self.secrets))
    }
}

fn requirement(
    entry: &CatalogEntry,
    scenarios: &[ScenarioInput],
    killed: &BTreeMap<&str, Vec<&str>>,
) -> RequirementResult {
    let runs: Vec<&ScenarioInput> = scenarios
        .iter()
        .filter(|s| s.requirements.contains(&entry.id))
        .collect();
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
    let faults_killed: BTreeSet<String> = runs
        .iter()
        .flat_map(|s| killed.get(s.id.as_str()).into_iter().flatten())
        .map(|f| (*f).to_owned())
        .collect();
    let faults_declared: BTreeSet<String> = runs
        .iter()
        .flat_map(|s| s.catches.iter().cloned())
        .collect();
    RequirementResult {
        id: entry.id.clone(),
        kind: entry.kind.clone(),
        text: entry.text.clone(),
        status,
        scenarios: runs.iter().map(|s| s.id.clone()).collect(),
        faults_killed: faults_killed.into_iter().collect(),
        faults_declared: faults_declared.into_iter().collect(),
    }
}

/// A failed verdict is a finding; a harness error is one too, of lower severity, because it
/// leaves the requirement unjudged rather than broken.
fn scenario_finding(s: &ScenarioInput) -> Option<Finding> {
    (s.outcome == Outcome::Failed).then(|| Finding {
        id: format!("SCENARIO-{}", s.id),
        severity: if s.harness_error {
            Severity::Medium
        } else {
            Severity::High
        },
        title: if s.harness_error {
            format!("harness error in {}: {}", s.id, s.title)
        } else {
            format!("{} failed: {}", s.id, s.title)
        },
        detail: s.detail.clone(),
        source: "scenario".to_owned(),
        requirements: s.requirements.clone(),
    })
}

/// Every string of the finished model goes through the redactor: the model is serialised,
/// redacted as JSON (so secret-named keys in evidence are caught too) and read back.
/// Fails closed: should the round trip ever break, no evidence or detail is reported at all.
fn redact(report: Report, redactor: Redactor) -> Report {
    let redacted = serde_json::to_value(&report).ok().and_then(|mut value| {
        redactor.value(&mut value);
        serde_json::from_value(value).ok()
    });
    redacted.unwrap_or_else(|| {
        let mut report = report;
        for s in &mut report.scenarios {
            s.evidence.clear();
            s.detail = crate::redact::REDACTED.to_owned();
        }
        report.gate.reasons = vec!["the report could not be redacted".to_owned()];
        report.gate.passed = false;
        report
    })
}
