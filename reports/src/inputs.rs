//! The data a report is judged by, read from the fixtures folder: the gate policy, the errata
//! of the specification (raised as findings) and the known deviations.
//! A missing file means "none" (a strict policy); a malformed one is an error.

use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{Deviation, Finding, Policy, ReportError, Severity};

pub const POLICY_FILE: &str = "gate-policy.json";
pub const ERRATA_FILE: &str = "errata.json";
pub const DEVIATIONS_FILE: &str = "known-deviations.json";

/// What the gate needs besides the results.
#[derive(Debug, Clone, Default)]
pub struct GateInputs {
    pub policy: Policy,
    /// Errata of the specification, as findings.
    pub errata: Vec<Finding>,
    pub deviations: Vec<Deviation>,
}

#[derive(Debug, Deserialize)]
struct ErrataFile {
    errata: Vec<Erratum>,
}

#[derive(Debug, Deserialize)]
struct Erratum {
    id: String,
    severity: Severity,
    title: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    requirements: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct DeviationsFile {
    deviations: Vec<Deviation>,
}

impl GateInputs {
    pub fn load(dir: &Path) -> Result<Self, ReportError> {
        let policy = read::<Policy>(dir, POLICY_FILE)?.unwrap_or_default();
        let errata = read::<ErrataFile>(dir, ERRATA_FILE)?
            .map(|f| f.errata)
            .unwrap_or_default()
            .into_iter()
            .map(|e| Finding {
                id: e.id,
                severity: e.severity,
                title: e.title,
                detail: e.detail,
                source: "errata".to_owned(),
                requirements: e.requirements,
            })
            .collect();
        let deviations = read::<DeviationsFile>(dir, DEVIATIONS_FILE)?
            .map(|f| f.deviations)
            .unwrap_or_default();
        if let Some(bad) = deviations.iter().find(|d| d.reason.trim().is_empty()) {
            return Err(ReportError::Input {
                path: dir.join(DEVIATIONS_FILE),
                reason: format!("deviation {} has no written reason", bad.id),
            });
        }
        Ok(Self {
            policy,
            errata,
            deviations,
        })
    }
}

fn read<T: DeserializeOwned>(dir: &Path, name: &str) -> Result<Option<T>, ReportError> {
    let path = dir.join(name);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ReportError::Input {
                path,
                reason: e.to_string(),
            });
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| ReportError::Input {
            path,
            reason: e.to_string(),
        })
}
