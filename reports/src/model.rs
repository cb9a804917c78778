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
    /// Known deviations from the policy: data with a written reason, shown beside the verdicts.
    #[serde(default)]
    pub deviations: Vec<Deviation>,
    /// The highest finding severity the gate tolerates.
    pub policy: Policy,
    /// After `conform mutants`: where the kill matrix is thin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weak_spots: Option<WeakSpots>,
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
    /// How it failed: `violation` (a check about the system), `precondition` (a setup step),
    /// `timeout` (a real-time bound) or `harness`; absent when it passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_kind: Option<String>,
    /// The label of the check that failed, for a violation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_check: Option<String>,
    pub evidence: Vec<Observation>,
    /// The faults this scenario declares it catches.
    pub catches: Vec<String>,
    /// Per declared fault, the check that must be the one to fail under it.
    #[serde(default)]
    pub named_checks: Vec<NamedCheck>,
    /// Files the scenario left as evidence (a browser's screenshot), beside the report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// For a sweep: what it covered, one matrix per dimension it enumerated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matrix: Vec<Matrix>,
    /// Where the run's traffic is, when it was captured (`conform run --capture`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<CaptureLink>,
}

/// A file a scenario left as evidence, written into the report's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// What it shows.
    pub name: String,
    /// Its path, relative to the report's directory.
    pub path: String,
    pub media_type: String,
}

/// What a sweep covered: the dimension it enumerated and one row per item and case tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matrix {
    /// What was enumerated, in words (`routes × credentials`).
    pub dimension: String,
    pub rows: Vec<MatrixRow>,
}

/// One cell of a sweep: `item` (a route, a connection path, a secret) tried with `case`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixRow {
    pub item: String,
    pub case: String,
    /// What was seen, in words (`refused 401`).
    pub outcome: String,
}

/// A run's capture, and the exchange behind its verdict in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureLink {
    /// The pcapng, relative to the report's directory when it is under it.
    pub pcapng: String,
    /// The TLS key log (NSS format) that decrypts it: `tshark -o tls.keylog_file:FILE`.
    pub key_log: String,
    /// The check the exchange decided, for a failed run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// A display filter for that exchange (`tcp.stream eq 3 && http2.headers.path == "/x"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The exchange in words: which request, to which endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<String>,
}

/// A fault a scenario catches, and the check that must fire for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedCheck {
    pub fault: String,
    pub check: String,
}

/// One scenario's run under a fault that did not end in a kill by the named check: the
/// scenario, and what failed instead (a check, a setup step, what was waited for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRun {
    pub scenario: String,
    pub by: String,
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
    /// Faults those scenarios were seen to kill (empty unless `mutants` ran).
    #[serde(default)]
    pub faults_killed: Vec<String>,
    /// Faults those scenarios declare they catch.
    #[serde(default)]
    pub faults_declared: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultResult {
    pub name: String,
    pub breaks: String,
    /// Scenarios whose named check for this fault is the one that failed under it: kills.
    pub killed_by: Vec<String>,
    /// Scenarios where a check about the system failed, but not the one named for this fault.
    #[serde(default)]
    pub failed_elsewhere: Vec<FaultRun>,
    /// Scenarios where a setup step failed under this fault: not a detection.
    #[serde(default)]
    pub broke_setup: Vec<FaultRun>,
    /// Scenarios where a real-time bound ran out under this fault: not a detection.
    #[serde(default)]
    pub timed_out: Vec<FaultRun>,
    /// Scenarios where the harness broke under this fault.
    #[serde(default)]
    pub harness_errors: Vec<FaultRun>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    /// What a reader needs to act on it.
    #[serde(default)]
    pub detail: String,
    /// Where it comes from: `errata` (the spec itself) or `scenario` (a failed verdict).
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub requirements: Vec<String>,
}

/// Ordered from harmless to worst, so a policy can say "nothing above".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// The gate policy (`fixtures/gate-policy.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Findings above this severity fail the gate.
    pub max_severity: Severity,
}

impl Default for Policy {
    /// With no policy file, any finding above informational fails the gate: strict by default.
    fn default() -> Self {
        Self {
            max_severity: Severity::Info,
        }
    }
}

/// A known deviation: a requirement or scenario the gate tolerates failing, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deviation {
    /// A requirement ID or a scenario ID.
    pub id: String,
    pub reason: String,
}

/// Where the kill matrix is thin: each entry is one mutation away from a blind spot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeakSpots {
    /// Faults that exactly one scenario kills.
    pub killed_once: Vec<String>,
    /// Scenarios that kill no fault at all.
    pub kill_nothing: Vec<String>,
    /// A scenario that names a fault failed under it by another check, a setup step or a
    /// timeout: `scenario under fault: what failed instead`.
    #[serde(default)]
    pub named_check_missed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    pub passed: bool,
    pub reasons: Vec<String>,
    /// Reasons a known deviation excuses, with its reason; they do not fail the gate.
    #[serde(default)]
    pub waived: Vec<String>,
}
