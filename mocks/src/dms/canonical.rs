//! A call's canonical form: its method and its parameters other than `connection`, sorted by
//! name, IDs as numbers. The DMA builds each share's whitelist in this form from the
//! dashboard's calls and hands it to the WAF; how each of them reads a request into it is its
//! own business ([`reader`](super::reader) for the DMA, the WAF's own reader for the WAF).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use super::ids::read_id;

/// The path every call starts with, as the DMA's own clients spell it.
pub(crate) const API_PREFIX: &str = "/API/v1/Json.asmx/";

/// The parameters that hold IDs: read as numbers whether sent as `100` or `"100"`.
pub(crate) const ID_PARAMETERS: &[&str] =
    &["dmaID", "elementID", "parameterID", "viewID", "alarmID"];

/// A parameter value in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(untagged)]
pub enum CanonicalValue {
    Id(u32),
    Text(String),
}

/// A call as both the WAF and the DMA understand it: method plus canonical parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct CanonicalCall {
    pub method: String,
    pub parameters: BTreeMap<String, CanonicalValue>,
}

impl fmt::Display for CanonicalCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.method)?;
        for (i, (name, value)) in self.parameters.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            match value {
                CanonicalValue::Id(id) => write!(f, "{sep}{name}={id}")?,
                CanonicalValue::Text(text) => write!(f, "{sep}{name}={text:?}")?,
            }
        }
        f.write_str(")")
    }
}

/// Why a dashboard's call has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// A parameter value is not of a readable type.
    #[error("{0}")]
    Parameter(String),
}

/// The canonical form of `method` called with `body`.
pub fn canonical_call(method: &str, body: &Map<String, Value>) -> Result<CanonicalCall, ReadError> {
    let mut parameters = BTreeMap::new();
    for (name, value) in body {
        if name == "connection" {
            continue;
        }
        let canonical = if ID_PARAMETERS.contains(&name.as_str()) {
            CanonicalValue::Id(read_id(body, name).map_err(ReadError::Parameter)?)
        } else if let Value::String(text) = value {
            CanonicalValue::Text(text.clone())
        } else {
            return Err(ReadError::Parameter(format!("{name} is not a string")));
        };
        parameters.insert(name.clone(), canonical);
    }
    Ok(CanonicalCall {
        method: method.to_owned(),
        parameters,
    })
}

/// The key a login is looked up by: logins are compared ASCII-case-insensitively, everywhere.
pub fn login_key(login: &str) -> String {
    login.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(body: serde_json::Value) -> Result<CanonicalCall, ReadError> {
        let serde_json::Value::Object(body) = body else {
            unreachable!()
        };
        canonical_call("GetElement", &body)
    }

    #[test]
    fn order_and_number_spelling_do_not_change_a_call() {
        let a = call(serde_json::json!({"connection":"x","dmaID":2000,"elementID":"100"}));
        let b = call(serde_json::json!({"elementID":100,"dmaID":"2000","connection":"y"}));
        assert_eq!(a, b);
        assert!(a.is_ok());
        assert!(call(serde_json::json!({"elementID":"0100"})).is_err());
    }
}
