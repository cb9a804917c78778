//! Every scenario as a test of its own, named by its ID, and every (scenario, fault it declares)
//! pair as a test that the scenario fails under that fault, by the check it names for it. Generated from the registry, so a
//! new scenario is tested both ways without a line here.
//!
//! `cargo test -p scenarios -- optin` runs one suite; `-- ::catches::` only the fault checks.

use libtest_mimic::{Arguments, Failed, Trial};
use scenarios::{Catch, FaultSet, FaultVerdict, Outcome, Scenario};

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
        for &catch in scenario.catches {
            let name = format!("{}::catches::{}", scenario.id, catch.fault.name());
            trials.push(Trial::test(name, move || fails_under(scenario, catch)).with_kind("fault"));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

fn passes_clean(scenario: &'static Scenario) -> Result<(), Failed> {
    let run = scenarios::run(scenario, FaultSet::none());
    match &run.outcome {
        Outcome::Passed => Ok(()),
        Outcome::Failed(failure) => Err(format!(
            "{}: {failure}\nevidence so far: {}",
            scenario.id,
            scenarios::summary(&run.evidence)
        )
        .into()),
        // A test that could not run is no pass: the line says what to install.
        Outcome::Skipped(why) => Err(format!("{}: not run: {why}", scenario.id).into()),
    }
}

/// Passes only when the check named for the fault is the expectation that failed: another
/// check, a setup step, a timeout or a harness error is not a catch.
fn fails_under(scenario: &'static Scenario, catch: Catch) -> Result<(), Failed> {
    let Catch { fault, check } = catch;
    let run = scenarios::run(scenario, FaultSet::from(fault));
    let verdict = run.verdict_on(fault);
    if verdict == FaultVerdict::Caught {
        return Ok(());
    }
    let seen = match &run.outcome {
        Outcome::Passed => format!("it passed ({})", fault.breaks()),
        Outcome::Failed(failure) => format!("{}: {failure}", verdict.name()),
        Outcome::Skipped(why) => format!("it could not run: {why}"),
    };
    Err(format!(
        "{} under {fault} must fail check [{check}]; instead {seen}\nevidence so far: {}",
        scenario.id,
        scenarios::summary(&run.evidence)
    )
    .into())
}
