//! `junit.xml`: one test suite per suite, one test case per scenario, the requirement IDs as
//! properties; a failed expectation is a `<failure>`, a broken harness an `<error>`.

use std::collections::BTreeMap;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report as Junit, TestCase, TestCaseStatus, TestSuite};

use crate::{Outcome, Report, ReportError};

pub fn render(report: &Report) -> Result<String, ReportError> {
    let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
    for s in &report.scenarios {
        let status = match (s.outcome, s.harness_error) {
            (Outcome::Passed, _) => TestCaseStatus::success(),
            (Outcome::Skipped, _) => TestCaseStatus::skipped(),
            (Outcome::Failed, harness) => {
                let kind = if harness {
                    NonSuccessKind::Error
                } else {
                    NonSuccessKind::Failure
                };
                let mut status = TestCaseStatus::non_success(kind);
                status.set_message(s.detail.as_str());
                status
            }
        };
        let mut case = TestCase::new(s.id.as_str(), status);
        case.set_classname(format!("conform.{}", s.suite));
        case.set_time(Duration::from_millis(s.duration_ms));
        for r in &s.requirements {
            case.add_property(Property::new("requirement", r.as_str()));
        }
        for m in &s.matrix {
            case.add_property(Property::new(
                "sweep",
                format!("{}: {} rows", m.dimension, m.rows.len()).as_str(),
            ));
        }
        let mut out: Vec<String> = s
            .evidence
            .iter()
            .map(|o| format!("{} = {}", o.what, o.value))
            .collect();
        for m in &s.matrix {
            out.push(format!("sweep {}:", m.dimension));
            out.extend(
                m.rows
                    .iter()
                    .map(|r| format!("  {} | {} | {}", r.item, r.case, r.outcome)),
            );
        }
        if !out.is_empty() {
            case.set_system_out(out.join("\n"));
        }
        suites
            .entry(s.suite.as_str())
            .or_insert_with(|| TestSuite::new(s.suite.as_str()))
            .add_test_case(case);
    }
    let mut junit = Junit::new("conform");
    junit.add_test_suites(suites.into_values());
    junit.to_string().map_err(|e| ReportError::Render {
        format: "junit.xml",
        reason: e.to_string(),
    })
}
