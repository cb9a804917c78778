//! The report of a conform run: one result model (`model`), assembled once (`assemble`), and
//! one module per output format, each rendering the same model.

mod assemble;
pub mod json;
pub mod junit;
pub mod markdown;
mod model;

pub use assemble::{Assembly, CatalogEntry, FaultInput, ScenarioInput};
pub use model::{
    FaultResult, Finding, Gate, Observation, Outcome, Report, RequirementResult, RunInfo, SCHEMA,
    ScenarioResult, Status, Summary,
};

/// A report file could not be rendered or written.
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
    let files = [
        ("report.json", json::render(report)?),
        ("junit.xml", junit::render(report)?),
        ("report.md", markdown::render(report)),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| ReportError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}
