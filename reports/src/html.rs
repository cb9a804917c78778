//! `report.html`: one self-contained page (inline style and script, no external asset) that
//! opens offline: the gate and summary, the traceability matrix, the scenarios with a filter
//! and the evidence behind each verdict, the findings, the known deviations, the kill matrix.

use std::fmt::Write;

use crate::{Outcome, Report, ScenarioResult, Status};

const STYLE: &str = include_str!("html/style.css");
const FILTER: &str = include_str!("html/filter.js");

pub fn render(report: &Report) -> String {
    let mut h = String::new();
    let gate = if report.gate.passed { "pass" } else { "fail" };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>conform report</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
         <h1>conform report <span class=\"badge {gate}\">gate {}</span></h1>\n",
        if report.gate.passed {
            "passed"
        } else {
            "failed"
        }
    );
    summary(&mut h, report);
    requirements(&mut h, report);
    scenarios(&mut h, report);
    findings(&mut h, report);
    deviations(&mut h, report);
    kill_matrix(&mut h, report);
    let _ = write!(h, "<script>\n{FILTER}</script>\n</body>\n</html>\n");
    h
}

/// Escapes text for an element or a double-quoted attribute.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn codes(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("<code>{}</code>", esc(i)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn summary(h: &mut String, report: &Report) {
    let s = &report.summary;
    let verified = count(report, Status::Verified);
    let failed = count(report, Status::Failed);
    let uncovered = count(report, Status::Uncovered);
    let killed = report
        .faults
        .iter()
        .filter(|f| !f.killed_by.is_empty())
        .count();
    let _ = write!(
        h,
        "<p class=\"muted\">{} {} · selection: {} · schema {} · policy: findings up to <b>{}</b> allowed</p>\n\
         <table class=\"summary\"><tr><th>scenarios</th><th>passed</th><th>failed</th><th>skipped</th>\
         <th>requirements verified</th><th>failed</th><th>uncovered</th><th>faults killed</th><th>findings</th></tr>\n\
         <tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{verified}</td><td>{failed}</td><td>{uncovered}</td>\
         <td>{killed}/{}</td><td>{}</td></tr></table>\n",
        esc(&report.tool),
        esc(&report.version),
        esc(&report.run.selection),
        esc(&report.schema),
        report.policy.max_severity.as_str(),
        s.scenarios,
        s.passed,
        s.failed,
        s.skipped,
        report.faults.len(),
        report.findings.len(),
    );
    if !report.run.faults_on.is_empty() {
        let _ = writeln!(
            h,
            "<p>Faults switched on: {}</p>",
            codes(&report.run.faults_on)
        );
    }
    if !report.gate.reasons.is_empty() {
        // Collapsed, so the traceability matrix stays at a glance however many reasons.
        let _ = writeln!(
            h,
            "<details id=\"gate\"><summary><b>Why the gate failed</b> ({} reasons)</summary>\n<ul>",
            report.gate.reasons.len()
        );
        for r in &report.gate.reasons {
            let _ = writeln!(h, "<li>{}</li>", esc(r));
        }
        let _ = writeln!(h, "</ul></details>");
    }
    if !report.gate.waived.is_empty() {
        let _ = writeln!(h, "<h3>Waived by known deviations</h3>\n<ul>");
        for r in &report.gate.waived {
            let _ = writeln!(h, "<li>{}</li>", esc(r));
        }
        let _ = writeln!(h, "</ul>");
    }
}

fn count(report: &Report, status: Status) -> usize {
    report
        .requirements
        .iter()
        .filter(|r| r.status == status)
        .count()
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Verified => "verified",
        Status::Failed => "failed",
        Status::Uncovered => "uncovered",
    }
}

fn requirements(h: &mut String, report: &Report) {
    let _ = writeln!(
        h,
        "<h2 id=\"requirements\">Requirement traceability</h2>\n<table id=\"traceability\">\n\
         <thead><tr><th>ID</th><th>kind</th><th>status</th><th>scenarios</th><th>faults killed</th><th>requirement</th></tr></thead>\n<tbody>"
    );
    for r in &report.requirements {
        let status = status_name(r.status);
        let faults = if !r.faults_killed.is_empty() {
            codes(&r.faults_killed)
        } else if !r.faults_declared.is_empty() {
            format!(
                "<span class=\"muted\">declared: {}</span>",
                codes(&r.faults_declared)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            h,
            "<tr><td><b>{}</b></td><td class=\"{kind}\">{kind}</td><td class=\"{status}\">{status}</td><td>{}</td><td>{faults}</td><td>{}</td></tr>",
            esc(&r.id),
            codes(&r.scenarios),
            esc(&r.text),
            kind = esc(&r.kind),
        );
    }
    let _ = writeln!(h, "</tbody></table>");
}

fn outcome_name(s: &ScenarioResult) -> &'static str {
    match s.outcome {
        Outcome::Passed => "passed",
        Outcome::Failed if s.harness_error => "error",
        Outcome::Failed => "failed",
        Outcome::Skipped => "skipped",
    }
}

fn scenarios(h: &mut String, report: &Report) {
    let _ = writeln!(
        h,
        "<h2 id=\"scenarios-title\">Scenarios</h2>\n<div id=\"filters\">\
         <input id=\"scenario-filter\" type=\"search\" placeholder=\"filter: ID, suite, requirement, text\">\n\
         <select id=\"outcome-filter\"><option value=\"\">any outcome</option><option>passed</option>\
         <option>failed</option><option>error</option><option>skipped</option></select>\n\
         <span id=\"scenario-count\" class=\"muted\"></span></div>\n<table id=\"scenarios\">\n\
         <thead><tr><th>scenario</th><th>suite</th><th>requirements</th><th>outcome</th><th>duration</th><th>verdict and evidence</th></tr></thead>\n<tbody>"
    );
    for s in &report.scenarios {
        let outcome = outcome_name(s);
        let _ = write!(
            h,
            "<tr data-outcome=\"{outcome}\"><td><code>{}</code><br><span class=\"muted\">{}</span></td><td>{}</td><td>{}</td>\
             <td class=\"{outcome}\">{outcome}</td><td class=\"ms\">{} ms</td><td>{}",
            esc(&s.id),
            esc(&s.title),
            esc(&s.suite),
            esc(&s.requirements.join(", ")),
            s.duration_ms,
            esc(&s.detail),
        );
        if let Some(capture) = &s.capture {
            capture_link(h, capture);
        }
        if !s.evidence.is_empty() {
            let _ = write!(
                h,
                "<details><summary>evidence ({})</summary>",
                s.evidence.len()
            );
            for o in &s.evidence {
                let value = serde_json::to_string_pretty(&o.value).unwrap_or_default();
                let _ = write!(h, "<pre><b>{}</b> = {}</pre>", esc(&o.what), esc(&value));
            }
            let _ = write!(h, "</details>");
        }
        for a in &s.attachments {
            if a.media_type.starts_with("image/") {
                let _ = write!(
                    h,
                    "<figure><img src=\"{}\" alt=\"{}\" width=\"600\"><figcaption>{}</figcaption></figure>",
                    esc(&a.path),
                    esc(&a.name),
                    esc(&a.name)
                );
            } else {
                let _ = write!(
                    h,
                    "<p><a href=\"{}\">{}</a></p>",
                    esc(&a.path),
                    esc(&a.name)
                );
            }
        }
        for m in &s.matrix {
            let _ = write!(
                h,
                "<details class=\"sweep\"><summary>sweep: {} ({} rows)</summary>\
                 <table class=\"matrix\"><thead><tr><th>item</th><th>case</th><th>outcome</th></tr></thead><tbody>",
                esc(&m.dimension),
                m.rows.len()
            );
            for r in &m.rows {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&r.item),
                    esc(&r.case),
                    esc(&r.outcome)
                );
            }
            let _ = write!(h, "</tbody></table></details>");
        }
        let _ = writeln!(h, "</td></tr>");
    }
    let _ = writeln!(h, "</tbody></table>");
}

/// The run's capture and key log as links, and the filter of the exchange behind the verdict.
fn capture_link(h: &mut String, capture: &crate::model::CaptureLink) {
    let _ = write!(
        h,
        "<div class=\"capture\">capture: <a href=\"{0}\">{0}</a>, key log: <a href=\"{1}\">{1}</a>",
        esc(&capture.pcapng),
        esc(&capture.key_log),
    );
    if let Some(filter) = &capture.filter {
        let _ = write!(h, "<br>");
        if let Some(check) = &capture.check {
            let _ = write!(h, "[<code>{}</code>] ", esc(check));
        }
        if let Some(exchange) = &capture.exchange {
            let _ = write!(h, "{}: ", esc(exchange));
        }
        let _ = write!(h, "<code class=\"display-filter\">{}</code>", esc(filter));
    }
    let _ = write!(h, "</div>");
}

fn findings(h: &mut String, report: &Report) {
    let _ = writeln!(h, "<h2 id=\"findings\">Findings</h2>");
    if report.findings.is_empty() {
        let _ = writeln!(h, "<p class=\"muted\">None.</p>");
        return;
    }
    let _ = writeln!(
        h,
        "<table><thead><tr><th>ID</th><th>severity</th><th>source</th><th>requirements</th><th>finding</th></tr></thead><tbody>"
    );
    for f in &report.findings {
        let sev = f.severity.as_str();
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td class=\"sev-{sev}\">{sev}</td><td>{}</td><td>{}</td><td><b>{}</b><br>{}</td></tr>",
            esc(&f.id),
            esc(&f.source),
            esc(&f.requirements.join(", ")),
            esc(&f.title),
            esc(&f.detail),
        );
    }
    let _ = writeln!(h, "</tbody></table>");
}

fn deviations(h: &mut String, report: &Report) {
    let _ = writeln!(h, "<h2 id=\"deviations\">Known deviations</h2>");
    if report.deviations.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"muted\">None: the gate tolerates no failure.</p>"
        );
        return;
    }
    let _ = writeln!(
        h,
        "<table><thead><tr><th>ID</th><th>reason</th></tr></thead><tbody>"
    );
    for d in &report.deviations {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td></tr>",
            esc(&d.id),
            esc(&d.reason)
        );
    }
    let _ = writeln!(h, "</tbody></table>");
}

/// Faults down, scenarios across: a filled cell is a kill, a pale one a kill the scenario
/// declares but that was not measured in this run.
fn kill_matrix(h: &mut String, report: &Report) {
    let _ = writeln!(h, "<h2 id=\"kill-matrix\">Kill matrix</h2>");
    if report.faults.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"muted\">No fault was run: <code>conform mutants</code> measures it.</p>"
        );
        return;
    }
    let _ = write!(
        h,
        "<table class=\"matrix\"><thead><tr><th>fault</th><th>killed by</th>"
    );
    for s in &report.scenarios {
        let _ = write!(
            h,
            "<th class=\"col\" title=\"{id}\">{id}</th>",
            id = esc(&s.id)
        );
    }
    let _ = writeln!(h, "</tr></thead><tbody>");
    for f in &report.faults {
        let (class, verdict) = match f.killed_by.len() {
            0 => ("survived", "survived".to_owned()),
            n => ("killed", n.to_string()),
        };
        let _ = write!(
            h,
            "<tr><td title=\"{}\"><code>{}</code></td><td class=\"{class}\">{verdict}</td>",
            esc(&f.breaks),
            esc(&f.name)
        );
        for s in &report.scenarios {
            let other = |runs: &[crate::FaultRun], mark: &str, how: &str| {
                runs.iter().find(|r| r.scenario == s.id).map(|r| {
                    format!(
                        "<td class=\"other\" title=\"{how} {}\">{mark}</td>",
                        esc(&r.by)
                    )
                })
            };
            let cell = if f.killed_by.contains(&s.id) {
                "<td class=\"hit\" title=\"caught by its named check\">✔</td>".to_owned()
            } else if let Some(cell) = other(&f.failed_elsewhere, "≠", "failed another check:")
                .or_else(|| other(&f.broke_setup, "S", "broke setup:"))
                .or_else(|| other(&f.timed_out, "T", "timed out:"))
                .or_else(|| other(&f.harness_errors, "E", "harness error:"))
            {
                cell
            } else if s.catches.contains(&f.name) {
                "<td class=\"declared\"></td>".to_owned()
            } else {
                "<td></td>".to_owned()
            };
            h.push_str(&cell);
        }
        let _ = writeln!(h, "</tr>");
    }
    let _ = writeln!(h, "</tbody></table>");
    if let Some(weak) = &report.weak_spots {
        let _ = writeln!(
            h,
            "<h3>Weak spots</h3>\n<p>Faults killed by one scenario only: {}</p>\n<p>Scenarios that kill no fault: {}</p>\n<p>Named checks that did not fire: {}</p>",
            or_none(&codes(&weak.killed_once)),
            or_none(&codes(&weak.kill_nothing)),
            or_none(&codes(&weak.named_check_missed)),
        );
    }
}

fn or_none(text: &str) -> &str {
    if text.is_empty() { "none" } else { text }
}
