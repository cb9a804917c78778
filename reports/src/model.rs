//! The result model: what `report.json` holds, and every other format renders.
//! Field names and values are the contract of DESIGN.md; add fields, never rename them.

use serde::{Deserialize, Serialize};

/// The schema tag of `report.json`; bumped only on an incompatible change.
pub const SCHEMA: &str = "conform-report/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub tool: String,
    pub version: String,
    pub run: RunInfo,
    pub summary: Summary,
    pub scenarios: Vec<ScenarioResult>,
    pub requirements: Vec<RequirementResult>,
    pub faults: Vec<FaultResult>,
    pub findings: Vec<Finding>,
    pub gate: Gate,
}

/// What was asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The command line's selection, in words (`suite optin`, `all scenarios`).
    pub selection: String,
    /// The fault switches every scenario of this run ran under.
    pub faults_on: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub scenarios: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Passed,
    Failed,
    Skipped,
}

/// One thing a scenario observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub what: String,
    pub value: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub id: String,
    pub suite: String,
    pub title: String,
    pub requirements: Vec<String>,
    pub outcome: Outcome,
    pub duration_ms: u64,
    /// The evidence summary of a pass, or what was expected and what was seen.
    pub detail: String,
    /// The failure is the harness's, not the system's: no verdict on the system.
    pub harness_error: bool,
    pub evidence: Vec<Observation>,
    /// The faults this scenario declares it catches.
    pub catches: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Verified,
    Failed,
    Uncovered,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequirementResult {
    pub id: String,
    /// `stated` or `implied`.
    pub kind: String,
    pub text: String,
    pub status: Status,
    /// The scenarios of this run that verify it.
    pub scenarios: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultResult {
    pub name: String,
    pub breaks: String,
    /// Scenarios that failed with this fault switched on.
    pub killed_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub severity: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    pub passed: bool,
    pub reasons: Vec<String>,
}
