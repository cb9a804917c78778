//! `report.md`: short enough for a CI job summary; the gate first, then what failed, then the
//! requirement matrix.

use std::fmt::Write;

use crate::{Outcome, Report, Status};

pub fn render(report: &Report) -> String {
    let mut md = String::new();
    let s = &report.summary;
    let gate = if report.gate.passed {
        "passed"
    } else {
        "failed"
    };
    let _ = writeln!(md, "# conform report\n");
    let _ = writeln!(
        md,
        "**Gate {gate}** · {} scenarios: {} passed, {} failed, {} skipped · selection: {}\n",
        s.scenarios, s.passed, s.failed, s.skipped, report.run.selection
    );
    if !report.run.faults_on.is_empty() {
        let _ = writeln!(
            md,
            "Faults switched on: `{}`\n",
            report.run.faults_on.join("`, `")
        );
    }
    for reason in &report.gate.reasons {
        let _ = writeln!(md, "- {}", cell(reason));
    }
    for waived in &report.gate.waived {
        let _ = writeln!(md, "- waived: {}", cell(waived));
    }
    let _ = writeln!(
        md,
        "\n## Scenarios\n\n| scenario | requirements | outcome | detail |\n|---|---|---|---|"
    );
    for sc in &report.scenarios {
        let outcome = match sc.outcome {
            Outcome::Passed => "passed",
            Outcome::Failed if sc.harness_error => "error",
            Outcome::Failed => "**failed**",
            Outcome::Skipped => "skipped",
        };
        let _ = writeln!(
            md,
            "| `{}` | {} | {outcome} | {} |",
            sc.id,
            sc.requirements.join(", "),
            cell(&sc.detail)
        );
    }
    sweeps(&mut md, report);
    let _ = writeln!(
        md,
        "\n## Requirements\n\n| ID | kind | status | scenarios | faults killed |\n|---|---|---|---|---|"
    );
    for r in &report.requirements {
        let status = match r.status {
            Status::Verified => "verified",
            Status::Failed => "**failed**",
            Status::Uncovered => "uncovered",
        };
        let _ = writeln!(
            md,
            "| {} | {} | {status} | {} | {} |",
            r.id,
            r.kind,
            r.scenarios.join(", "),
            r.faults_killed.join(", ")
        );
    }
    if !report.faults.is_empty() {
        let _ = writeln!(
            md,
            "\n## Faults\n\nA kill is a failure of the check the scenario names for the fault; \
             anything else is listed beside it and is not a detection.\n\n\
             | fault | killed by (named check) | failed elsewhere | broke setup | timed out |\n\
             |---|---|---|---|---|"
        );
        let runs = |runs: &[crate::FaultRun]| {
            runs.iter()
                .map(|r| format!("{} ({})", r.scenario, r.by))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for f in &report.faults {
            let killed = if f.killed_by.is_empty() {
                "**survived**".to_owned()
            } else {
                f.killed_by.join(", ")
            };
            let _ = writeln!(
                md,
                "| `{}` | {killed} | {} | {} | {} |",
                f.name,
                runs(&f.failed_elsewhere),
                runs(&f.broke_setup),
                runs(&f.timed_out)
            );
        }
    }
    if let Some(weak) = &report.weak_spots {
        let list = |items: &[String]| {
            if items.is_empty() {
                "none".to_owned()
            } else {
                format!("`{}`", items.join("`, `"))
            }
        };
        let _ = writeln!(
            md,
            "\n## Weak spots\n\n- faults killed by one scenario only: {}\n- scenarios that kill no fault: {}\n- named checks that did not fire: {}",
            list(&weak.killed_once),
            list(&weak.kill_nothing),
            list(&weak.named_check_missed)
        );
    }
    if !report.findings.is_empty() {
        let _ = writeln!(
            md,
            "\n## Findings\n\n| ID | severity | finding |\n|---|---|---|"
        );
        for f in &report.findings {
            let _ = writeln!(
                md,
                "| `{}` | {} | {} |",
                f.id,
                f.severity.as_str(),
                cell(&f.title)
            );
        }
    }
    let _ = writeln!(md, "\n## Known deviations\n");
    if report.deviations.is_empty() {
        let _ = writeln!(md, "None.");
    }
    for d in &report.deviations {
        let _ = writeln!(md, "- `{}`: {}", d.id, cell(&d.reason));
    }
    md
}

/// Each sweep's matrix: what it enumerated, and every item, case and outcome.
fn sweeps(md: &mut String, report: &Report) {
    for sc in report.scenarios.iter().filter(|s| !s.matrix.is_empty()) {
        for m in &sc.matrix {
            let _ = writeln!(
                md,
                "\n### Sweep `{}`: {}\n\n| item | case | outcome |\n|---|---|---|",
                sc.id,
                cell(&m.dimension)
            );
            for r in &m.rows {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} |",
                    cell(&r.item),
                    cell(&r.case),
                    cell(&r.outcome)
                );
            }
        }
    }
}

/// Keeps a table cell on one line and its pipes from splitting it.
fn cell(text: &str) -> String {
    // `<` would start raw HTML in a job summary and swallow the text after it.
    let one_line = text
        .replace(['\n', '\r'], " ")
        .replace('|', "\\|")
        .replace('<', "&lt;");
    match one_line.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}
