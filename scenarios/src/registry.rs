use std::sync::LazyLock;

use crate::{Scenario, suites};

static ALL: LazyLock<Vec<Scenario>> = LazyLock::new(suites::all);

/// Every scenario, suite by suite, in declaration order.
pub fn all() -> &'static [Scenario] {
    &ALL
}

pub fn by_id(id: &str) -> Option<&'static Scenario> {
    all().iter().find(|s| s.id == id)
}

/// The scenarios that verify `requirement`.
pub fn covering(requirement: &str) -> impl Iterator<Item = &'static Scenario> {
    all()
        .iter()
        .filter(move |s| s.requirements.contains(&requirement))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_dotted_sentences_under_their_suite() {
        let mut seen = HashSet::new();
        for s in all() {
            assert!(seen.insert(s.id), "{} twice", s.id);
            let (suite, sentence) = s.id.split_once('.').expect("dotted");
            assert_eq!(suite, s.suite.name());
            assert!(
                sentence
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            );
        }
    }

    /// A named check must be a label some expectation uses (twice: where the check is made and
    /// where the catch names it), or the catch could never fire.
    #[test]
    fn every_named_check_is_a_label_the_suites_use() {
        let mut sources = String::new();
        let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/suites")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    sources.push_str(&std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        for s in all() {
            for c in s.catches {
                assert!(
                    !c.check.is_empty()
                        && c.check
                            .chars()
                            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-'),
                    "{} names [{}] for {}: a check label is kebab-case",
                    s.id,
                    c.check,
                    c.fault
                );
                let quoted = format!("\"{}\"", c.check);
                assert!(
                    sources.matches(&quoted).count() >= 2,
                    "{} names check [{}] for {}, which no expectation uses",
                    s.id,
                    c.check,
                    c.fault
                );
            }
        }
    }

    #[test]
    fn every_scenario_names_known_requirements_and_at_least_one_fault() {
        let catalog = fixtures::Catalog::load().unwrap();
        for s in all() {
            assert!(!s.requirements.is_empty(), "{} verifies nothing", s.id);
            assert!(
                !s.catches.is_empty(),
                "{} catches no fault: it could never fail",
                s.id
            );
            for r in s.requirements {
                assert!(
                    catalog.get(r).is_some(),
                    "{} names unknown requirement {r}",
                    s.id
                );
            }
        }
    }
}
