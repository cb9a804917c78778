use std::time::{Duration, Instant};

use mocks::world::FaultSet;

use crate::{Ctx, Evidence, Failure, Observation, Scenario, summary};

/// The longest a scenario may run before it is stopped and reported as a harness error.
/// Scenarios never wait on real time; this only turns a hang into a clear failure.
pub const WATCHDOG: Duration = Duration::from_secs(120);

/// How a scenario ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Passed,
    Failed(Failure),
}

/// One scenario run under one set of faults.
#[derive(Debug, Clone)]
pub struct Run {
    pub scenario: &'static Scenario,
    pub faults: FaultSet,
    pub outcome: Outcome,
    /// What the scenario observed, up to its verdict.
    pub evidence: Vec<Observation>,
    pub duration: Duration,
}

impl Run {
    pub fn passed(&self) -> bool {
        matches!(self.outcome, Outcome::Passed)
    }

    /// The scenario failed on what it observed (not on a harness error): under a fault, that
    /// is the fault caught.
    pub fn caught_a_violation(&self) -> bool {
        matches!(&self.outcome, Outcome::Failed(f) if !f.is_harness())
    }

    /// One line: the evidence summary when passed, the failure when not.
    pub fn detail(&self) -> String {
        match &self.outcome {
            Outcome::Passed => summary(&self.evidence),
            Outcome::Failed(failure) => failure.to_string(),
        }
    }
}

/// Runs `scenario` in a fresh task under `faults`; a panic or a hang becomes a harness error.
pub async fn run(scenario: &'static Scenario, faults: FaultSet) -> Run {
    let started = Instant::now();
    let evidence = Evidence::new();
    let body = tokio::spawn((scenario.body)(Ctx::new(faults.clone(), evidence.clone())));
    let outcome = match tokio::time::timeout(WATCHDOG, body).await {
        Ok(Ok(Ok(()))) => Outcome::Passed,
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
        evidence: evidence.observations(),
        duration: started.elapsed(),
    }
}
