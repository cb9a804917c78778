//! Turns the command line's filters into the scenarios to run; a name nobody knows is a usage
//! error, and so is a selection that matches nothing.

use fixtures::Catalog;
use scenarios::{Fault, FaultSet, Scenario, Suite};

use crate::UsageError;

/// The scenarios picked, and a description of the pick for the report.
#[derive(Debug)]
pub struct Selection {
    pub scenarios: Vec<&'static Scenario>,
    pub described: String,
}

pub fn select(
    catalog: &Catalog,
    suites: &[String],
    ids: &[String],
    requirements: &[String],
) -> Result<Selection, UsageError> {
    let suites: Vec<Suite> = suites
        .iter()
        .map(|s| {
            s.parse()
                .map_err(|e: scenarios::UnknownSuite| UsageError(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    for id in ids {
        if scenarios::by_id(id).is_none() {
            return Err(UsageError(format!(
                "unknown scenario {id:?} (see `conform list`)"
            )));
        }
    }
    for r in requirements {
        if catalog.get(r).is_none() {
            return Err(UsageError(format!(
                "unknown requirement {r:?} (see `conform list`)"
            )));
        }
    }
    let picked: Vec<&'static Scenario> = scenarios::all()
        .iter()
        .filter(|s| suites.is_empty() || suites.contains(&s.suite))
        .filter(|s| ids.is_empty() || ids.iter().any(|id| id == s.id))
        .filter(|s| {
            requirements.is_empty()
                || requirements
                    .iter()
                    .any(|r| s.requirements.contains(&r.as_str()))
        })
        .collect();
    let mut described: Vec<String> = Vec::new();
    described.extend(suites.iter().map(|s| format!("suite {s}")));
    described.extend(ids.iter().map(|id| format!("scenario {id}")));
    described.extend(requirements.iter().map(|r| format!("requirement {r}")));
    let described = if described.is_empty() {
        "all scenarios".to_owned()
    } else {
        described.join(", ")
    };
    if picked.is_empty() {
        return Err(UsageError(format!("no scenario matches {described}")));
    }
    Ok(Selection {
        scenarios: picked,
        described,
    })
}

pub fn faults(names: &[String]) -> Result<FaultSet, UsageError> {
    names
        .iter()
        .map(|n| n.parse::<Fault>().map_err(|e| UsageError(e.to_string())))
        .collect()
}
