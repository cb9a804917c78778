//! `report.json`: the model as it is, the contract other tools read.

use crate::{Report, ReportError};

pub fn render(report: &Report) -> Result<String, ReportError> {
    serde_json::to_string_pretty(report).map_err(|e| ReportError::Render {
        format: "report.json",
        reason: e.to_string(),
    })
}
