//! Every scenario as a test of its own, named by its ID, and every (scenario, fault it declares)
//! pair as a test that the scenario fails under that fault. Generated from the registry, so a
//! new scenario is tested both ways without a line here.
//!
//! `cargo test -p scenarios -- optin` runs one suite; `-- ::catches::` only the fault checks.

use libtest_mimic::{Arguments, Failed, Trial};
use scenarios::{Fault, FaultSet, Outcome, Run, Scenario};

/// Scenarios run at once when `--test-threads` is not given.
const IO_BOUND_THREADS: usize = 8;

fn main() {
    let mut args = Arguments::from_args();
    // Scenarios wait on sockets far more than they compute: more of them at once than there
    // are cores keeps a 2-core machine busy. `--test-threads` still decides when given.
    args.test_threads.get_or_insert(IO_BOUND_THREADS);
    let mut trials = Vec::new();
    for scenario in scenarios::all() {
        trials.push(Trial::test(scenario.id, move || passes_clean(scenario)).with_kind("scenario"));
        for &fault in scenario.catches {
            let name = format!("{}::catches::{}", scenario.id, fault.name());
            trials.push(Trial::test(name, move || fails_under(scenario, fault)).with_kind("fault"));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

fn passes_clean(scenario: &'static Scenario) -> Result<(), Failed> {
    let run = execute(scenario, FaultSet::none())?;
    match &run.outcome {
        Outcome::Passed => Ok(()),
        Outcome::Failed(failure) => Err(format!(
            "{}: {failure}\nevidence so far: {}",
            scenario.id,
            scenarios::summary(&run.evidence)
        )
        .into()),
    }
}

fn fails_under(scenario: &'static Scenario, fault: Fault) -> Result<(), Failed> {
    let run = execute(scenario, FaultSet::from(fault))?;
    if run.caught_a_violation() {
        return Ok(());
    }
    Err(match &run.outcome {
        Outcome::Passed => format!(
            "{} passed under {fault}, which it declares it catches ({}): evidence: {}",
            scenario.id,
            fault.breaks(),
            scenarios::summary(&run.evidence)
        ),
        Outcome::Failed(failure) => format!(
            "{} under {fault} broke the harness instead of failing: {failure}\nevidence so far: {}",
            scenario.id,
            scenarios::summary(&run.evidence)
        ),
    }
    .into())
}

fn execute(scenario: &'static Scenario, faults: FaultSet) -> Result<Run, Failed> {
    // One small runtime per test: tests run on libtest's threads, in parallel, sharing nothing.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    Ok(runtime.block_on(scenarios::run(scenario, faults)))
}
