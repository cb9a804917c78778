use std::fmt::{self, Debug};
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// One thing a scenario saw, with the value it saw.
#[derive(Debug, Clone, Serialize)]
pub struct Observation {
    pub what: String,
    pub value: serde_json::Value,
}

/// What a scenario observed on its way to a verdict. The runner holds a handle too, so the
/// evidence survives a failure, a panic or a hang and is reported with the verdict.
#[derive(Debug, Clone, Default)]
pub struct Evidence(Arc<Mutex<Vec<Observation>>>);

/// Why a scenario did not pass.
#[derive(Debug, Clone, Serialize)]
pub enum Failure {
    /// The system under test did something the specification forbids.
    Expectation {
        what: String,
        expected: String,
        observed: String,
    },
    /// The harness itself broke (an environment did not start, a body panicked or hung):
    /// no verdict on the system.
    Harness(String),
}

impl Failure {
    pub fn expectation(
        what: impl Into<String>,
        expected: impl Into<String>,
        observed: impl Debug,
    ) -> Self {
        Failure::Expectation {
            what: what.into(),
            expected: expected.into(),
            observed: format!("{observed:?}"),
        }
    }

    /// Like `expectation`, with the observed value shown as JSON, as evidence shows it.
    fn observed_as_json(what: &str, expected: String, observed: &impl Serialize) -> Self {
        Failure::Expectation {
            what: what.to_owned(),
            expected,
            observed: serde_json::to_string(observed)
                .unwrap_or_else(|e| format!("<unprintable: {e}>")),
        }
    }

    pub fn is_harness(&self) -> bool {
        matches!(self, Failure::Harness(_))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Expectation {
                what,
                expected,
                observed,
            } => write!(f, "{what}: expected {expected}, observed {observed}"),
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

    /// Everything recorded so far, in order.
    pub fn observations(&self) -> Vec<Observation> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Records `observed` and fails unless it equals `expected`.
    pub fn expect_eq<T>(&self, what: &str, expected: T, observed: T) -> Result<(), Failure>
    where
        T: PartialEq + Debug + Serialize,
    {
        self.saw(what, &observed);
        if observed == expected {
            Ok(())
        } else {
            Err(Failure::observed_as_json(
                what,
                format!("{expected:?}"),
                &observed,
            ))
        }
    }

    /// Records `observed` and fails unless `holds`; `expected` says in words what should hold.
    pub fn expect<T>(
        &self,
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
