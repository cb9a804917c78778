use std::process::ExitCode;

use fixtures::Catalog;
use reports::Report;

use super::execute::{self, Job};
use super::repeat;
use crate::UsageError;
use crate::cli::RunArgs;
use crate::selection;

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::load()?;
    let picked = selection::select(&catalog, &args.suites, &args.scenarios, &args.requirements)?;
    let faults = selection::faults(&args.faults)?;
    prepare_report_dir(&args.report_dir)?;
    if let Some(dir) = &args.capture {
        let dir = dir
            .clone()
            .unwrap_or_else(|| args.report_dir.join("capture"));
        scenarios::capture_into(&dir).map_err(|e| {
            UsageError(format!(
                "capture dir {} is not writable: {e}",
                dir.display()
            ))
        })?;
        say!(
            "capturing every connection into {} (the files hold live secrets)",
            dir.display()
        );
    }
    let jobs = execute::default_jobs(args.jobs);

    for fault in faults.iter() {
        say!("fault switched on: {fault} ({})", fault.breaks());
    }
    let work: Vec<Job> = picked
        .scenarios
        .iter()
        .map(|&s| (s, faults.clone()))
        .collect();
    let tally = repeat::run_rounds(&work, jobs, args.repeat)?;
    let runs = tally.shown();

    let kills = faults
        .iter()
        .map(|f| execute::fault_input(f, &runs))
        .collect();
    let mut report =
        execute::assembly(&catalog, &picked.described, &faults, &runs, kills, false)?.into_report();
    execute::write_attachments(&runs, &args.report_dir)?;
    link_captures_from(&mut report, &args.report_dir);
    write_reports(&report, &args.report_dir)?;
    let s = report.summary;
    say!(
        "{} passed, {} failed, {} skipped",
        s.passed,
        s.failed,
        s.skipped
    );
    for fault in &report.faults {
        match fault.killed_by.as_slice() {
            [] => say!(
                "fault {} not caught: no scenario's named check fired",
                fault.name
            ),
            by => say!("fault {} caught by: {}", fault.name, by.join(", ")),
        }
        for (how, runs) in [
            ("failed another check", &fault.failed_elsewhere),
            ("broke setup", &fault.broke_setup),
            ("timed out", &fault.timed_out),
            ("harness error", &fault.harness_errors),
        ] {
            for r in runs {
                say!("  {how}, not a catch: {} ({})", r.scenario, r.by);
            }
        }
    }
    if args.repeat > 1 {
        tally.print();
    }
    if args.gate {
        return Ok(gate_verdict(&report));
    }
    Ok(if s.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Capture paths under the report dir are written relative to it, so the HTML report's links
/// work wherever the directory is opened.
fn link_captures_from(report: &mut Report, dir: &std::path::Path) {
    let relative = |path: &mut String| {
        if let Ok(inside) = std::path::Path::new(path.as_str()).strip_prefix(dir) {
            *path = inside.display().to_string();
        }
    };
    for capture in report
        .scenarios
        .iter_mut()
        .filter_map(|s| s.capture.as_mut())
    {
        relative(&mut capture.pcapng);
        relative(&mut capture.key_log);
    }
}

/// Writes the five report files and says where.
pub fn write_reports(report: &Report, dir: &std::path::Path) -> anyhow::Result<()> {
    reports::write_all(report, dir)?;
    say!("reports written to {}", dir.display());
    Ok(())
}

/// The gate's exit code, with its reasons printed when it fails.
pub fn gate_verdict(report: &Report) -> ExitCode {
    for waived in &report.gate.waived {
        say!("gate waives: {waived}");
    }
    if report.gate.passed {
        say!("gate passed");
        return ExitCode::SUCCESS;
    }
    say!("gate failed:");
    for reason in &report.gate.reasons {
        say!("  - {reason}");
    }
    ExitCode::from(1)
}

/// Creates the report directory and proves it writable before anything runs, so a bad path
/// costs a second, not a whole run.
pub fn prepare_report_dir(dir: &std::path::Path) -> Result<(), UsageError> {
    let unwritable = |e: std::io::Error| {
        UsageError(format!("report dir {} is not writable: {e}", dir.display()))
    };
    std::fs::create_dir_all(dir).map_err(unwritable)?;
    let probe = dir.join(".conform-write-probe");
    std::fs::write(&probe, b"").map_err(unwritable)?;
    std::fs::remove_file(&probe).map_err(unwritable)
}
