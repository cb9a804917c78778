//! A shared dashboard's whitelist: the canonical calls the dashboard makes (WAF-1). A call
//! passes only when its canonical form is one of them (WAF-2, WAF-3), as the WAF's
//! [`MatchPolicy`] compares them.

use serde_json::{Map, Value};

use super::body::canonical;
use super::policy::{MatchPolicy, ParameterMatch};
use crate::dms::canonical::{CanonicalCall, CanonicalValue};

/// The calls one share may make.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Whitelist {
    calls: Vec<CanonicalCall>,
}

impl Whitelist {
    pub fn new(calls: Vec<CanonicalCall>) -> Self {
        let mut calls = calls;
        calls.sort();
        calls.dedup();
        Self { calls }
    }

    pub fn calls(&self) -> &[CanonicalCall] {
        &self.calls
    }

    /// Whether `method` with `body` (already read) is on the list; the reason says why not.
    pub(crate) fn check(
        &self,
        method: &str,
        body: &Map<String, Value>,
        policy: &MatchPolicy,
    ) -> Result<(), String> {
        let candidates: Vec<&CanonicalCall> = self
            .calls
            .iter()
            .filter(|c| policy.method.same(&c.method, method))
            .collect();
        if candidates.is_empty() {
            return Err(format!("{method} is not on the share's whitelist"));
        }
        let matched = match policy.parameters {
            ParameterMatch::Ignored => true,
            ParameterMatch::Raw => candidates.iter().any(|c| raw_equal(c, body)),
            ParameterMatch::Canonical
            | ParameterMatch::NamesOnly
            | ParameterMatch::EachValueSomewhere => {
                let call = canonical(method, body)?;
                let names = |c: &CanonicalCall| c.parameters.keys().cloned().collect::<Vec<_>>();
                let named_alike = || candidates.iter().any(|c| names(c) == names(&call));
                let hit = match policy.parameters {
                    ParameterMatch::NamesOnly => named_alike(),
                    ParameterMatch::EachValueSomewhere => {
                        named_alike()
                            && call.parameters.iter().all(|(name, value)| {
                                candidates
                                    .iter()
                                    .any(|c| c.parameters.get(name) == Some(value))
                            })
                    }
                    _ => candidates.iter().any(|c| c.parameters == call.parameters),
                };
                if !hit {
                    return Err(format!("{call} is not on the share's whitelist"));
                }
                true
            }
        };
        matched
            .then_some(())
            .ok_or_else(|| format!("{method} with these values is not on the share's whitelist"))
    }
}

/// Whether `body`'s parameters, as raw JSON, are `listed`'s.
fn raw_equal(listed: &CanonicalCall, body: &Map<String, Value>) -> bool {
    let raw: Vec<(&String, &Value)> = body
        .iter()
        .filter(|(k, _)| k.as_str() != "connection")
        .collect();
    listed.parameters.len() == raw.len()
        && raw.iter().all(|(name, value)| {
            let expected = match listed.parameters.get(*name) {
                Some(CanonicalValue::Id(id)) => Value::from(*id),
                Some(CanonicalValue::Text(t)) => Value::String(t.clone()),
                None => return false,
            };
            **value == expected
        })
}

#[cfg(test)]
mod tests;
