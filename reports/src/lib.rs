//! The report of a conform run: one result model (`model`), assembled and redacted once
//! (`assemble`, `redact`), judged by the gate (`gate`, with `inputs` from the fixtures), and
//! one module per output format, each rendering the same model.

mod assemble;
mod gate;
pub mod html;
mod inputs;
pub mod json;
pub mod junit;
pub mod markdown;
mod model;
pub mod redact;
pub mod sarif;

pub use assemble::{Assembly, CatalogEntry, FaultInput, ScenarioInput};
pub use inputs::{DEVIATIONS_FILE, ERRATA_FILE, GateInputs, POLICY_FILE};
pub use model::{
    Attachment, CaptureLink, Deviation, FaultResult, FaultRun, Finding, Gate, Matrix, MatrixRow,
    NamedCheck, Observation, Outcome, Policy, Report, RequirementResult, RunInfo, SCHEMA,
    ScenarioResult, Severity, Status, Summary, WeakSpots,
};

/// The files `write_all` writes, in order.
pub const FILES: [&str; 5] = [
    "report.json",
    "junit.xml",
    "report.md",
    "report.html",
    "findings.sarif",
];

/// A report could not be made, rendered or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The model could not be serialised.
    #[error("cannot render {format}: {reason}")]
    Render {
        format: &'static str,
        reason: String,
    },
    /// The file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// A policy, errata or deviations file is malformed.
    #[error("cannot use {at}: {reason}")]
    Input {
        at: fixtures::Location,
        reason: String,
    },
    /// A policy, errata or deviations file is there but unreadable.
    #[error(transparent)]
    Fixture(#[from] fixtures::FixtureError),
}

/// Writes every format into `dir` (created if missing); returns the paths written.
pub fn write_all(
    report: &Report,
    dir: &std::path::Path,
) -> Result<Vec<std::path::PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let texts = [
        json::render(report)?,
        junit::render(report)?,
        markdown::render(report),
        html::render(report),
        sarif::render(report)?,
    ];
    let mut written = Vec::new();
    for (name, text) in FILES.into_iter().zip(texts) {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| ReportError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}
