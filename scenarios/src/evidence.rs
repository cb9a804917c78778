use std::fmt::{self, Debug};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

/// One thing a scenario saw, with the value it saw.
#[derive(Debug, Clone, Serialize)]
pub struct Observation {
    pub what: String,
    pub value: serde_json::Value,
}

/// What a scenario observed on its way to a verdict. The runner holds a handle too, so the
/// evidence survives a failure, a panic or a hang and is reported with the verdict. Beside
/// the observations: files left as evidence (a screenshot) and, for a scenario that could not
/// run here, why it was skipped.
#[derive(Debug, Clone, Default)]
pub struct Evidence(Arc<Mutex<Vec<Observation>>>, Arc<Mutex<Extras>>);

/// A file a scenario left as evidence: the runner's caller writes it beside the report.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// A file name of its own (`dashboard.png`).
    pub name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Default)]
struct Extras {
    attachments: Vec<Attachment>,
    skipped: Option<String>,
    matrices: Vec<Matrix>,
}

/// What a sweep covered: the dimension it enumerated (`routes × credentials`) and one row per
/// item and case it tried, with the outcome seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matrix {
    pub dimension: String,
    pub rows: Vec<MatrixRow>,
}

/// One cell of a sweep: `item` (a route, a connection path, a secret) tried with `case`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatrixRow {
    pub item: String,
    pub case: String,
    pub outcome: String,
}

/// The stable label of one expectation a scenario checks (`token-revoked-on-the-api`): what a
/// scenario's `catches` names, so a fault counts as caught only when that check fired.
pub type Check = &'static str;

/// Why a scenario did not pass. Only a `Violation` is a verdict on the system; the other kinds
/// say the scenario never got as far as its check.
#[derive(Debug, Clone, Serialize)]
pub enum Failure {
    /// The system under test did something the specification forbids: the expectation
    /// labelled `check` failed on what the scenario observed.
    Violation {
        check: Check,
        what: String,
        expected: String,
        observed: String,
    },
    /// A setup step did not reach the state the scenario's checks need (a login refused, a
    /// tunnel that never came up, a peer that did not answer): no verdict on the checks.
    Precondition {
        step: String,
        expected: String,
        observed: String,
    },
    /// A real-time bound ran out while waiting for the environment: a hang, not a detection.
    Timeout { what: String, bound: Duration },
    /// The harness itself broke (an environment did not start, a body or a task panicked, the
    /// watchdog fired): no verdict on the system.
    Harness(String),
}

/// The kind of a failure, as reports and the kill matrix name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    Violation,
    Precondition,
    Timeout,
    Harness,
}

impl FailureKind {
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Violation => "violation",
            FailureKind::Precondition => "precondition",
            FailureKind::Timeout => "timeout",
            FailureKind::Harness => "harness",
        }
    }
}

impl Failure {
    /// The expectation `check` failed: `what` was expected to be `expected`, and was not.
    pub fn violation(
        check: Check,
        what: impl Into<String>,
        expected: impl Into<String>,
        observed: impl Debug,
    ) -> Self {
        Failure::Violation {
            check,
            what: what.into(),
            expected: expected.into(),
            observed: format!("{observed:?}"),
        }
    }

    /// A setup step (`step`) did not reach `expected`.
    pub fn precondition(
        step: impl Into<String>,
        expected: impl Into<String>,
        observed: impl Debug,
    ) -> Self {
        Failure::Precondition {
            step: step.into(),
            expected: expected.into(),
            observed: format!("{observed:?}"),
        }
    }

    /// Waiting for `what` ran past `bound` of real time.
    pub fn timeout(what: impl Into<String>, bound: Duration) -> Self {
        Failure::Timeout {
            what: what.into(),
            bound,
        }
    }

    /// Like `violation`, with the observed value shown as JSON, as evidence shows it.
    fn observed_as_json(
        check: Check,
        what: &str,
        expected: String,
        observed: &impl Serialize,
    ) -> Self {
        Failure::Violation {
            check,
            what: what.to_owned(),
            expected,
            observed: serde_json::to_string(observed)
                .unwrap_or_else(|e| format!("<unprintable: {e}>")),
        }
    }

    pub fn kind(&self) -> FailureKind {
        match self {
            Failure::Violation { .. } => FailureKind::Violation,
            Failure::Precondition { .. } => FailureKind::Precondition,
            Failure::Timeout { .. } => FailureKind::Timeout,
            Failure::Harness(_) => FailureKind::Harness,
        }
    }

    /// The check that fired, when this is a violation.
    pub fn check(&self) -> Option<Check> {
        match self {
            Failure::Violation { check, .. } => Some(check),
            _ => None,
        }
    }

    pub fn is_harness(&self) -> bool {
        matches!(self, Failure::Harness(_))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Violation {
                check,
                what,
                expected,
                observed,
            } => write!(
                f,
                "[{check}] {what}: expected {expected}, observed {observed}"
            ),
            Failure::Precondition {
                step,
                expected,
                observed,
            } => write!(
                f,
                "precondition failed: {step}: expected {expected}, observed {observed}"
            ),
            Failure::Timeout { what, bound } => {
                write!(f, "timed out after {} ms: {what}", bound.as_millis())
            }
            Failure::Harness(reason) => write!(f, "harness error: {reason}"),
        }
    }
}

impl Evidence {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an observation without judging it.
    pub fn saw(&self, what: impl Into<String>, value: impl Serialize) {
        let observation = Observation {
            what: what.into(),
            value: serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
        };
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(observation);
    }

    /// Keeps a file as evidence of this run (a screenshot), under `name`.
    pub fn attach(&self, name: impl Into<String>, media_type: &str, bytes: Vec<u8>) {
        self.extras().attachments.push(Attachment {
            name: name.into(),
            media_type: media_type.to_owned(),
            bytes,
        });
    }

    /// Marks the run skipped: what it needs is not on this machine. The body then returns
    /// `Ok(())`, and the run is reported skipped with `reason`, never passed.
    pub fn skip(&self, reason: impl Into<String>) {
        self.extras().skipped = Some(reason.into());
    }

    pub fn attachments(&self) -> Vec<Attachment> {
        self.extras().attachments.clone()
    }

    pub fn skipped(&self) -> Option<String> {
        self.extras().skipped.clone()
    }

    fn extras(&self) -> std::sync::MutexGuard<'_, Extras> {
        self.1.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Everything recorded so far, in order.
    pub fn observations(&self) -> Vec<Observation> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Records one row of the sweep over `dimension`: what `item` did with `case`.
    pub fn row(
        &self,
        dimension: &str,
        item: impl Into<String>,
        case: impl Into<String>,
        outcome: impl Into<String>,
    ) {
        let row = MatrixRow {
            item: item.into(),
            case: case.into(),
            outcome: outcome.into(),
        };
        let matrices = &mut self.extras().matrices;
        match matrices.iter_mut().find(|m| m.dimension == dimension) {
            Some(matrix) => matrix.rows.push(row),
            None => matrices.push(Matrix {
                dimension: dimension.to_owned(),
                rows: vec![row],
            }),
        }
    }

    /// Every sweep's rows so far, one matrix per dimension, in the order first seen.
    pub fn matrices(&self) -> Vec<Matrix> {
        self.extras().matrices.clone()
    }

    /// Check `check`: records `observed` and fails unless it equals `expected`.
    pub fn expect_eq<T>(
        &self,
        check: Check,
        what: &str,
        expected: T,
        observed: T,
    ) -> Result<(), Failure>
    where
        T: PartialEq + Debug + Serialize,
    {
        self.saw(what, &observed);
        if observed == expected {
            Ok(())
        } else {
            Err(Failure::observed_as_json(
                check,
                what,
                format!("{expected:?}"),
                &observed,
            ))
        }
    }

    /// Check `check`: records `observed` and fails unless `holds`; `expected` says in words
    /// what should hold.
    pub fn expect<T>(
        &self,
        check: Check,
        what: &str,
        holds: bool,
        expected: &str,
        observed: T,
    ) -> Result<(), Failure>
    where
        T: Debug + Serialize,
    {
        self.saw(what, &observed);
        if holds {
            Ok(())
        } else {
            Err(Failure::observed_as_json(
                check,
                what,
                expected.to_owned(),
                &observed,
            ))
        }
    }
}

/// A one-line summary for reports: every observation as `what = value`.
pub fn summary(observations: &[Observation]) -> String {
    observations
        .iter()
        .map(|o| format!("{} = {}", o.what, o.value))
        .collect::<Vec<_>>()
        .join("; ")
}
