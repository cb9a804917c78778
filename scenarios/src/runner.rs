use std::time::{Duration, Instant};

use mocks::world::FaultSet;

use crate::{Ctx, Evidence, Failure, Scenario};

/// The longest a scenario may run before it is stopped and reported as a harness error.
/// Scenarios never wait on real time; this only turns a hang into a clear failure.
pub const WATCHDOG: Duration = Duration::from_secs(120);

/// How a scenario ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Passed(Evidence),
    Failed(Failure),
}

/// One scenario run under one set of faults.
#[derive(Debug, Clone)]
pub struct Run {
    pub scenario: &'static Scenario,
    pub faults: FaultSet,
    pub outcome: Outcome,
    pub duration: Duration,
}

impl Run {
    pub fn passed(&self) -> bool {
        matches!(self.outcome, Outcome::Passed(_))
    }

    /// The scenario failed on what it observed (not on a harness error): under a fault, that
    /// is the fault caught.
    pub fn caught_a_violation(&self) -> bool {
        matches!(&self.outcome, Outcome::Failed(f) if !f.is_harness())
    }

    /// One line: the evidence summary when passed, the failure when not.
    pub fn detail(&self) -> String {
        match &self.outcome {
            Outcome::Passed(evidence) => evidence.summary(),
            Outcome::Failed(failure) => failure.to_string(),
        }
    }
}

/// Runs `scenario` in a fresh task under `faults`; a panic or a hang becomes a harness error.
pub async fn run(scenario: &'static Scenario, faults: FaultSet) -> Run {
    let started = Instant::now();
    let body = tokio::spawn((scenario.body)(Ctx::new(faults.clone())));
    let outcome = match tokio::time::timeout(WATCHDOG, body).await {
        Ok(Ok(Ok(evidence))) => Outcome::Passed(evidence),
        Ok(Ok(Err(failure))) => Outcome::Failed(failure),
        Ok(Err(joined)) => Outcome::Failed(Failure::Harness(format!(
            "scenario body panicked: {joined}"
        ))),
        Err(_) => Outcome::Failed(Failure::Harness(format!(
            "scenario did not finish within {} s",
            WATCHDOG.as_secs()
        ))),
    };
    Run {
        scenario,
        faults,
        outcome,
        duration: started.elapsed(),
    }
}
