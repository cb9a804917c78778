//! A shared dashboard's whitelist: the canonical calls the dashboard makes (WAF-1). A call
//! passes only when its canonical form is one of them (WAF-2, WAF-3). The faults weaken the
//! match in the ways real WAFs get it wrong.

use serde_json::{Map, Value};

use crate::dma::canonical::{CanonicalCall, CanonicalValue, canonical_call};
use crate::world::{Fault, FaultSet};

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

    /// Whether `method` with `body` (already read by the shared reader) is on the list; the
    /// reason says why not.
    pub fn check(
        &self,
        method: &str,
        body: &Map<String, Value>,
        faults: &FaultSet,
    ) -> Result<(), String> {
        if faults.is_on(Fault::WafMethodOnly) {
            return self
                .calls
                .iter()
                .any(|c| c.method == method)
                .then_some(())
                .ok_or_else(|| format!("{method} is not on the share's whitelist"));
        }
        if faults.is_on(Fault::WafRawValues) {
            return self.check_raw(method, body);
        }
        let call = canonical_call(method, body).map_err(|e| e.to_string())?;
        let same_method = |c: &&CanonicalCall| {
            if faults.is_on(Fault::WafCaseInsensitiveMethod) {
                c.method.eq_ignore_ascii_case(&call.method)
            } else {
                c.method == call.method
            }
        };
        let candidates: Vec<&CanonicalCall> = self.calls.iter().filter(same_method).collect();
        if candidates.is_empty() {
            return Err(format!("{} is not on the share's whitelist", call.method));
        }
        let names = |c: &CanonicalCall| c.parameters.keys().cloned().collect::<Vec<_>>();
        let matched = if faults.is_on(Fault::WafIgnoreParams) {
            candidates.iter().any(|c| names(c) == names(&call))
        } else if faults.is_on(Fault::WafMatchIdsIndependently) {
            candidates.iter().any(|c| names(c) == names(&call))
                && call.parameters.iter().all(|(name, value)| {
                    candidates
                        .iter()
                        .any(|c| c.parameters.get(name) == Some(value))
                })
        } else {
            candidates.iter().any(|c| c.parameters == call.parameters)
        };
        if matched {
            Ok(())
        } else {
            Err(format!("{call} is not on the share's whitelist"))
        }
    }

    /// Fault `waf.raw-values`: parameters compared as raw JSON, so `"100"` is not `100`.
    fn check_raw(&self, method: &str, body: &Map<String, Value>) -> Result<(), String> {
        let raw: Map<String, Value> = body
            .iter()
            .filter(|(k, _)| k.as_str() != "connection")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let hit = self.calls.iter().any(|c| {
            c.method == method
                && c.parameters.len() == raw.len()
                && c.parameters.iter().all(|(k, v)| {
                    let expected = match v {
                        CanonicalValue::Id(id) => Value::from(*id),
                        CanonicalValue::Text(t) => Value::String(t.clone()),
                    };
                    raw.get(k) == Some(&expected)
                })
        });
        hit.then_some(())
            .ok_or_else(|| format!("{method} with these raw values is not on the whitelist"))
    }
}

#[cfg(test)]
mod tests;
