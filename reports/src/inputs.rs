//! The data a report is judged by, read from the fixtures (built in, or `--fixtures DIR`): the
//! gate policy, the errata of the specification (raised as findings) and the known deviations.
//! A missing file means "none" (a strict policy); a malformed one is an error.

use fixtures::Source;
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
    /// The gate's inputs as `source` has them (`Source::current()` for a run).
    pub fn load(source: &Source) -> Result<Self, ReportError> {
        let policy = read::<Policy>(source, POLICY_FILE)?.unwrap_or_default();
        let errata = read::<ErrataFile>(source, ERRATA_FILE)?
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
        let deviations = read::<DeviationsFile>(source, DEVIATIONS_FILE)?
            .map(|f| f.deviations)
            .unwrap_or_default();
        if let Some(bad) = deviations.iter().find(|d| d.reason.trim().is_empty()) {
            return Err(ReportError::Input {
                at: source.locate(DEVIATIONS_FILE),
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

fn read<T: DeserializeOwned>(source: &Source, name: &str) -> Result<Option<T>, ReportError> {
    let Some(bytes) = source.read_if_present(name)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| ReportError::Input {
            at: source.locate(name),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_inputs_raise_the_errata_and_give_every_deviation_a_reason() {
        let inputs = GateInputs::load(&Source::BuiltIn).expect("built-in inputs load");
        assert!(inputs.errata.iter().all(|e| e.source == "errata"));
        assert!(!inputs.errata.is_empty());
    }

    #[test]
    fn a_folder_without_the_files_means_a_strict_policy_and_nothing_waived() {
        let dir = std::env::temp_dir().join(format!("reports-inputs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        let inputs = GateInputs::load(&Source::Folder(dir.clone())).expect("nothing is fine");
        assert!(inputs.errata.is_empty() && inputs.deviations.is_empty());

        std::fs::write(dir.join(DEVIATIONS_FILE), "{\"deviations\": 3}").expect("write");
        let error = GateInputs::load(&Source::Folder(dir.clone())).expect_err("malformed");
        assert!(error.to_string().contains(DEVIATIONS_FILE), "{error}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
