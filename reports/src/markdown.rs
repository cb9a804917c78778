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
        let _ = writeln!(md, "- {reason}");
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
    let _ = writeln!(
        md,
        "\n## Requirements\n\n| ID | kind | status | scenarios |\n|---|---|---|---|"
    );
    for r in &report.requirements {
        let status = match r.status {
            Status::Verified => "verified",
            Status::Failed => "**failed**",
            Status::Uncovered => "uncovered",
        };
        let _ = writeln!(
            md,
            "| {} | {} | {status} | {} |",
            r.id,
            r.kind,
            r.scenarios.join(", ")
        );
    }
    if !report.faults.is_empty() {
        let _ = writeln!(md, "\n## Faults\n\n| fault | killed by |\n|---|---|");
        for f in &report.faults {
            let killed = if f.killed_by.is_empty() {
                "**survived**".to_owned()
            } else {
                f.killed_by.join(", ")
            };
            let _ = writeln!(md, "| `{}` | {killed} |", f.name);
        }
    }
    md
}

/// Keeps a table cell on one line and its pipes from splitting it.
fn cell(text: &str) -> String {
    let one_line = text.replace(['\n', '\r'], " ").replace('|', "\\|");
    match one_line.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}
