//! Where scenarios get their expected values: the specification's figures in `fixtures/`
//! (`spec.json`), loaded once. Never from a constant, helper or list of `mocks`: a mock that
//! gets a figure wrong must fail its scenario, and the test below keeps it so.

use std::sync::LazyLock;

use fixtures::Spec;

use crate::Failure;

static SPEC: LazyLock<Result<Spec, String>> =
    LazyLock::new(|| Spec::load().map_err(|e| e.to_string()));

/// The spec's figures.
pub fn spec() -> Result<&'static Spec, Failure> {
    SPEC.as_ref()
        .map_err(|e| Failure::Harness(format!("the spec's figures are unreadable: {e}")))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Scenarios may drive the mocks (start them, call them, read their records), but an
    /// expected value named from `mocks` would grade the mock by itself: no path into `mocks`
    /// may end in a constant (an UPPER_CASE name).
    #[test]
    fn no_scenario_reads_an_expected_value_from_the_mocks() {
        let mut offenders = Vec::new();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.ends_with("oracle.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    if !line.trim_start().starts_with("//") && names_a_mock_constant(line) {
                        offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "scenarios name constants of the mocks:\n{}",
            offenders.join("\n")
        );
    }

    /// `mocks::a::B_C`, or `use mocks::a::{x, B_C}`.
    fn names_a_mock_constant(line: &str) -> bool {
        let Some(at) = line.find("mocks::") else {
            return false;
        };
        line[at..]
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.len() > 1)
            .any(|w| {
                w.chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
                    && w.chars().any(|c| c.is_ascii_uppercase())
            })
    }

    #[test]
    fn the_detector_sees_constants_and_not_types() {
        assert!(names_a_mock_constant("use mocks::dma::PASSWORD_LENGTH;"));
        assert!(names_a_mock_constant("let n = mocks::agent::TUNNELS;"));
        assert!(names_a_mock_constant(
            "use mocks::dma::{ShareKey, SHARE_KEY_BYTES};"
        ));
        assert!(!names_a_mock_constant(
            "use mocks::cloud::{Endpoint, FirstFlight};"
        ));
        assert!(!names_a_mock_constant("use mocks::Environment;"));
    }
}
