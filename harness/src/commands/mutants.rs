//! `conform mutants`: the kill matrix. A kill is the scenario's named check failing under the
//! fault; another check, a setup step or a timeout is shown beside it and is not a kill. A clean run first (a failing suite would "kill" every
//! fault and the matrix would mean nothing), then every fault against every scenario, each in
//! a fresh environment, in parallel, never stopping at the first failure. `--suite` narrows
//! both sides: those suites' scenarios, against the faults they name.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use fixtures::Catalog;
use reports::FaultInput;
use scenarios::{Fault, FaultSet, FaultVerdict};

use super::execute::{self, Job};
use super::run::{prepare_report_dir, write_reports};
use crate::cli::MutantsArgs;
use crate::progress::Progress;
use crate::selection;

/// Per fault: the runs still to finish, and the scenarios that killed it so far.
type Tally = BTreeMap<Fault, (usize, Vec<&'static str>)>;

pub fn mutants(args: MutantsArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::load()?;
    prepare_report_dir(&args.report_dir)?;
    let slots = execute::default_jobs(args.jobs);
    let picked = selection::select(&catalog, &args.suites, &[], &[])?;
    let all = picked.scenarios;

    say!("clean run: {} scenarios, no fault", all.len());
    let clean_jobs: Vec<Job> = all.iter().map(|&s| (s, FaultSet::none())).collect();
    let progress = Arc::new(Progress::new(clean_jobs.len(), ("passed", "failed")));
    let shown = progress.clone();
    let clean = execute::run_jobs(
        clean_jobs,
        slots,
        Arc::new(move |run| shown.step(run.passed(), Some(execute::line(run)), !run.passed())),
    );
    progress.finish();
    let broken: Vec<&str> = clean
        .iter()
        .filter(|r| !r.passed())
        .map(|r| r.scenario.id)
        .collect();
    if !broken.is_empty() {
        say!(
            "the clean run failed ({}): a kill matrix over a failing suite would mean nothing",
            broken.join(", ")
        );
        return Ok(ExitCode::from(1));
    }

    let faults: Vec<Fault> = if args.suites.is_empty() {
        Fault::catalog()
    } else {
        Fault::catalog()
            .into_iter()
            .filter(|f| all.iter().any(|s| s.catches.iter().any(|c| c.fault == *f)))
            .collect()
    };
    say!(
        "kill matrix: {} faults x {} scenarios, {slots} at once",
        faults.len(),
        all.len()
    );
    let work: Vec<Job> = faults
        .iter()
        .flat_map(|&f| all.iter().map(move |&s| (s, FaultSet::from(f))))
        .collect();
    let progress = Arc::new(Progress::new(work.len(), ("killed", "missed")));
    let remaining: Arc<Mutex<Tally>> = Arc::new(Mutex::new(
        faults
            .iter()
            .map(|&f| (f, (all.len(), Vec::new())))
            .collect(),
    ));
    let shown = progress.clone();
    let runs = execute::run_jobs(
        work,
        slots,
        Arc::new(move |run| {
            let killed = run
                .faults
                .iter()
                .any(|f| run.verdict_on(f) == FaultVerdict::Caught);
            shown.step(killed, None, false);
            let mut left = remaining.lock().unwrap_or_else(|p| p.into_inner());
            for fault in run.faults.iter() {
                if let Some((count, by)) = left.get_mut(&fault) {
                    *count -= 1;
                    if killed {
                        by.push(run.scenario.id);
                    }
                    if *count == 0 {
                        shown.note(match by.len() {
                            0 => format!("SURVIVED {fault}  (no named check fired)"),
                            n => format!("KILLED   {fault}  by {n}: {}", by.join(", ")),
                        });
                    }
                }
            }
        }),
    );
    progress.finish();

    let kills: Vec<FaultInput> = faults
        .iter()
        .map(|&f| execute::fault_input(f, &runs))
        .collect();
    let report = execute::assembly(
        &catalog,
        &if args.suites.is_empty() {
            "mutants: every fault against every scenario".to_owned()
        } else {
            format!(
                "mutants: {}, against the faults they name",
                picked.described
            )
        },
        &FaultSet::none(),
        &clean,
        kills,
        true,
    )?
    .into_report();
    execute::write_attachments(&clean, &args.report_dir)?;
    write_reports(&report, &args.report_dir)?;

    let survivors: Vec<&str> = report
        .faults
        .iter()
        .filter(|f| f.killed_by.is_empty())
        .map(|f| f.name.as_str())
        .collect();
    say!(
        "{} of {} faults killed",
        report.faults.len() - survivors.len(),
        report.faults.len()
    );
    if let Some(weak) = &report.weak_spots {
        if !weak.killed_once.is_empty() {
            say!(
                "weak spot: killed by one scenario only: {}",
                weak.killed_once.join(", ")
            );
        }
        for missed in &weak.named_check_missed {
            say!("weak spot: named check did not fire: {missed}");
        }
        if !weak.kill_nothing.is_empty() {
            say!(
                "weak spot: scenarios that kill no fault: {}",
                weak.kill_nothing.join(", ")
            );
        }
    }
    if survivors.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        say!("faults that survived: {}", survivors.join(", "));
        Ok(ExitCode::from(1))
    }
}
