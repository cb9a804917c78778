use std::time::{Duration, Instant};

use mocks::world::{Fault, FaultSet};
use serde::Serialize;

use crate::{Ctx, Evidence, Failure, FailureKind, Matrix, Observation, Scenario, panics, summary};

/// The longest a scenario may run before it is stopped and reported as timed out.
/// Scenarios never wait on real time; this only turns a hang into a clear failure.
pub const WATCHDOG: Duration = Duration::from_secs(120);

const BODY_PANICKED: &str = "scenario body panicked";

/// Worker threads of the runtime each run gets.
const WORKERS: usize = 2;

/// How a scenario ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Passed,
    Failed(Failure),
    /// It could not run on this machine (a browser it drives is not installed): why.
    Skipped(String),
}

/// One scenario run under one set of faults.
#[derive(Debug, Clone)]
pub struct Run {
    pub scenario: &'static Scenario,
    pub faults: FaultSet,
    pub outcome: Outcome,
    /// What the scenario observed, up to its verdict.
    pub evidence: Vec<Observation>,
    /// Files it left as evidence.
    pub attachments: Vec<crate::evidence::Attachment>,
    /// What a sweep covered, item by case, up to its verdict.
    pub matrices: Vec<Matrix>,
    pub duration: Duration,
    /// The run's capture, when the process captures (`capture_into`).
    pub capture: Option<crate::RunCapture>,
}

/// What a run under one fault says of that fault: the rows of the kill matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict", content = "by")]
pub enum FaultVerdict {
    /// The check the scenario names for this fault is the one that failed: a kill.
    Caught,
    /// A check about the system failed, but not the one named for this fault (or the scenario
    /// names none for it): which check.
    FailedElsewhere(String),
    /// A setup step did not reach the state the checks need: which step.
    BrokeSetup(String),
    /// A real-time bound ran out.
    TimedOut(String),
    /// The harness broke: no verdict.
    HarnessError(String),
    /// The scenario passed with the fault on.
    Survived,
}

impl FaultVerdict {
    pub fn name(&self) -> &'static str {
        match self {
            FaultVerdict::Caught => "caught",
            FaultVerdict::FailedElsewhere(_) => "failed elsewhere",
            FaultVerdict::BrokeSetup(_) => "broke setup",
            FaultVerdict::TimedOut(_) => "timed out",
            FaultVerdict::HarnessError(_) => "harness error",
            FaultVerdict::Survived => "survived",
        }
    }
}

impl Run {
    pub fn passed(&self) -> bool {
        matches!(self.outcome, Outcome::Passed)
    }

    pub fn failure(&self) -> Option<&Failure> {
        match &self.outcome {
            Outcome::Passed | Outcome::Skipped(_) => None,
            Outcome::Failed(failure) => Some(failure),
        }
    }

    pub fn kind(&self) -> Option<FailureKind> {
        self.failure().map(Failure::kind)
    }

    /// What this run says of `fault`: caught only when the check the scenario names for it
    /// is the expectation that failed.
    pub fn verdict_on(&self, fault: Fault) -> FaultVerdict {
        let named = self
            .scenario
            .catches
            .iter()
            .find(|c| c.fault == fault)
            .map(|c| c.check);
        if let Outcome::Skipped(why) = &self.outcome {
            return FaultVerdict::BrokeSetup(format!("skipped: {why}"));
        }
        match self.failure() {
            None => FaultVerdict::Survived,
            Some(Failure::Violation { check, .. }) if Some(*check) == named => FaultVerdict::Caught,
            Some(Failure::Violation { check, .. }) => {
                FaultVerdict::FailedElsewhere((*check).to_owned())
            }
            Some(Failure::Precondition { step, .. }) => FaultVerdict::BrokeSetup(step.clone()),
            Some(Failure::Timeout { what, .. }) => FaultVerdict::TimedOut(what.clone()),
            Some(Failure::Harness(reason)) => FaultVerdict::HarnessError(reason.clone()),
        }
    }

    /// One line: the evidence summary when passed, the failure when not.
    pub fn detail(&self) -> String {
        match &self.outcome {
            Outcome::Passed => summary(&self.evidence),
            Outcome::Failed(failure) => failure.to_string(),
            Outcome::Skipped(why) => format!("skipped: {why}"),
        }
    }
}

/// Runs `scenario` under `faults` on a runtime of its own, on the calling thread: a panic in
/// the body or in any task of the environment, or a hang, fails this run and no other.
/// Blocks until the run is over; call it from a thread that is not running async code.
pub fn run(scenario: &'static Scenario, faults: FaultSet) -> Run {
    panics::contain();
    let started = Instant::now();
    let evidence = Evidence::new();
    let (number, thread_name) = panics::next_run();
    let sink = crate::capture::sink_for(scenario, &faults);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .thread_name(thread_name)
        .enable_all()
        .build();
    let outcome = match runtime {
        Ok(runtime) => {
            let ctx = Ctx::new(faults.clone(), evidence.clone()).capturing(sink.clone());
            let body = (scenario.body)(ctx);
            let outcome = runtime.block_on(watch(body));
            // Whatever the environment left running ends here, before its panics are read.
            runtime.shutdown_timeout(Duration::from_secs(1));
            outcome
        }
        Err(e) => Outcome::Failed(Failure::Harness(format!("cannot start a runtime: {e}"))),
    };
    let outcome = match (panics::take(number), outcome) {
        (panicked, outcome) if panicked.is_empty() => outcome,
        // The body's own panic is already its verdict.
        (_, Outcome::Failed(Failure::Harness(why))) if why.starts_with(BODY_PANICKED) => {
            Outcome::Failed(Failure::Harness(why))
        }
        // Whatever the scenario saw after a task of its environment crashed says nothing of
        // the system: the crash is the verdict.
        (panicked, _) => Outcome::Failed(Failure::Harness(format!(
            "a task of the environment panicked: {}",
            panicked.join("; ")
        ))),
    };
    let outcome = match (outcome, evidence.skipped()) {
        (Outcome::Passed, Some(why)) => Outcome::Skipped(why),
        (outcome, _) => outcome,
    };
    let failure = match &outcome {
        Outcome::Passed | Outcome::Skipped(_) => None,
        Outcome::Failed(failure) => Some(failure),
    };
    let capture = sink
        .as_ref()
        .and_then(|sink| crate::capture::finish(sink, failure, Instant::now()));
    Run {
        scenario,
        faults,
        outcome,
        evidence: evidence.observations(),
        attachments: evidence.attachments(),
        matrices: evidence.matrices(),
        duration: started.elapsed(),
        capture,
    }
}

/// The body in a task of its own, so its panic is a value, under the watchdog.
async fn watch(body: futures_util::future::BoxFuture<'static, Result<(), Failure>>) -> Outcome {
    match tokio::time::timeout(WATCHDOG, tokio::spawn(body)).await {
        Ok(Ok(Ok(()))) => Outcome::Passed,
        Ok(Ok(Err(failure))) => Outcome::Failed(failure),
        Ok(Err(joined)) => Outcome::Failed(Failure::Harness(format!(
            "{BODY_PANICKED}: {}",
            panic_message(joined)
        ))),
        Err(_) => Outcome::Failed(Failure::timeout("the scenario to finish", WATCHDOG)),
    }
}

fn panic_message(joined: tokio::task::JoinError) -> String {
    match joined.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned()),
        Err(e) => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catch, Suite};

    fn scenario(body: crate::scenario::Body) -> &'static Scenario {
        Box::leak(Box::new(Scenario {
            id: "optin.test-only",
            suite: Suite::Optin,
            title: "a scenario made up by this test",
            requirements: &["OPT-1"],
            catches: const { &[Catch::by(Fault::AgentConnectBeforeOptin, "the-named-check")] },
            body,
        }))
    }

    fn under_the_fault(body: crate::scenario::Body) -> FaultVerdict {
        let run = run(
            scenario(body),
            FaultSet::from(Fault::AgentConnectBeforeOptin),
        );
        run.verdict_on(Fault::AgentConnectBeforeOptin)
    }

    #[test]
    fn only_the_named_check_failing_is_a_catch() {
        let named: crate::scenario::Body =
            |_| Box::pin(async { Err(Failure::violation("the-named-check", "w", "e", "o")) });
        assert_eq!(under_the_fault(named), FaultVerdict::Caught);
        let other: crate::scenario::Body =
            |_| Box::pin(async { Err(Failure::violation("another-check", "w", "e", "o")) });
        assert_eq!(
            under_the_fault(other),
            FaultVerdict::FailedElsewhere("another-check".into())
        );
    }

    #[test]
    fn a_setup_failure_or_a_timeout_is_not_a_catch() {
        let setup: crate::scenario::Body =
            |_| Box::pin(async { Err(Failure::precondition("connecting the DMS", "up", "down")) });
        assert_eq!(
            under_the_fault(setup),
            FaultVerdict::BrokeSetup("connecting the DMS".into())
        );
        let hung: crate::scenario::Body =
            |_| Box::pin(async { Err(Failure::timeout("the tunnel", Duration::from_secs(5))) });
        assert_eq!(
            under_the_fault(hung),
            FaultVerdict::TimedOut("the tunnel".into())
        );
        let passed: crate::scenario::Body = |_| Box::pin(async { Ok(()) });
        assert_eq!(under_the_fault(passed), FaultVerdict::Survived);
    }

    #[test]
    #[allow(clippy::panic)]
    fn a_panic_in_a_task_fails_its_run_as_a_harness_error_and_no_other() {
        let crashing: crate::scenario::Body = |_| {
            Box::pin(async {
                let task = tokio::spawn(async { panic!("a mock's task crashed") });
                let _ = task.await;
                Ok(())
            })
        };
        let crashed = run(scenario(crashing), FaultSet::none());
        assert!(
            matches!(&crashed.outcome, Outcome::Failed(Failure::Harness(why)) if why.contains("a mock's task crashed")),
            "{:?}",
            crashed.outcome
        );
        let calm: crate::scenario::Body = |_| Box::pin(async { Ok(()) });
        assert!(run(scenario(calm), FaultSet::none()).passed());
    }
}
