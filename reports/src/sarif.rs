//! `findings.sarif`: the findings as SARIF 2.1.0, for code-scanning dashboards. Each finding
//! is a rule and a result; a scenario's finding points at the requirements it verifies.

use serde_json::{Value, json};

use crate::{Finding, Report, ReportError, Severity};

pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The catalog every finding is located in: dashboards need a physical location.
const CATALOG_URI: &str = "spec/REQUIREMENTS.md";

pub fn render(report: &Report) -> Result<String, ReportError> {
    let rules: Vec<Value> = report.findings.iter().map(rule).collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .enumerate()
        .map(|(index, f)| result(index, f))
        .collect();
    let sarif = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": report.tool,
                    "version": report.version,
                    "rules": rules,
                }
            },
            "automationDetails": { "id": format!("conform/{}", report.run.selection) },
            "results": results,
            "properties": {
                "gate": { "passed": report.gate.passed, "reasons": report.gate.reasons },
                "sweeps": sweeps(report),
                "policy": { "max_severity": report.policy.max_severity.as_str() },
            },
        }],
    });
    serde_json::to_string_pretty(&sarif).map_err(|e| ReportError::Render {
        format: "findings.sarif",
        reason: e.to_string(),
    })
}

/// What each sweep covered, in counts: the rows themselves are in the other formats.
fn sweeps(report: &Report) -> Vec<Value> {
    report
        .scenarios
        .iter()
        .flat_map(|s| {
            s.matrix.iter().map(
                |m| json!({ "scenario": s.id, "dimension": m.dimension, "rows": m.rows.len() }),
            )
        })
        .collect()
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's scale for `security-severity`: 9+ critical, 7+ high, 4+ medium, else low.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.0",
        Severity::Low => "2.0",
        Severity::Info => "0.0",
    }
}

fn rule(f: &Finding) -> Value {
    json!({
        "id": f.id,
        "shortDescription": { "text": f.title },
        "fullDescription": { "text": if f.detail.is_empty() { &f.title } else { &f.detail } },
        "defaultConfiguration": { "level": level(f.severity) },
        "properties": {
            "severity": f.severity.as_str(),
            "security-severity": security_severity(f.severity),
            "source": f.source,
            "tags": ["security", f.source.as_str()],
        },
    })
}

fn result(index: usize, f: &Finding) -> Value {
    let message = if f.detail.is_empty() {
        f.title.clone()
    } else {
        format!("{}: {}", f.title, f.detail)
    };
    let logical: Vec<Value> = f
        .requirements
        .iter()
        .map(|r| json!({ "name": r, "kind": "requirement" }))
        .collect();
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": CATALOG_URI },
            "region": { "startLine": 1 },
        }
    });
    if !logical.is_empty() {
        location["logicalLocations"] = Value::Array(logical);
    }
    json!({
        "ruleId": f.id,
        "ruleIndex": index,
        "level": level(f.severity),
        "message": { "text": message },
        "locations": [location],
        "properties": { "severity": f.severity.as_str(), "requirements": f.requirements },
    })
}
