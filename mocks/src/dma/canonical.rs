//! How a DataMiner Web Services call is read: path, content type, body, parameters. The WAF and
//! the DMA both read requests through this module, so they cannot disagree on what a request
//! says (a parser differential between them would be a bypass; `waf.first-duplicate-key-wins`
//! is one, the WAF reading bodies its own way).
//!
//! The rules, strict on purpose: only `POST /API/v1/Json.asmx/<Method>` with a method of ASCII
//! letters and no query; `Content-Type: application/json`, optionally `; charset=utf-8`; a body
//! of at most [`INSPECTION_LIMIT`] bytes holding exactly one JSON object with no duplicate key;
//! names compared exactly (case and all); IDs read by [`read_id`](super::ids::read_id), so `100`
//! and `"100"` are the same call and every look-alike is refused. A call's canonical form is its
//! method and its parameters other than `connection`, sorted by name.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserializer as _, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::ids::read_id;

/// The path every call starts with.
pub(crate) const API_PREFIX: &str = "/API/v1/Json.asmx/";

/// The largest body either reader inspects; a larger one is refused whole, never forwarded
/// half-read.
pub(crate) const INSPECTION_LIMIT: usize = 64 * 1024;

/// A request as both readers take it in, before either reads the call in it.
#[derive(Debug)]
pub struct Received {
    pub head: http::request::Parts,
    /// The path with its query, as sent.
    pub path: String,
    /// The body, read to one byte past [`INSPECTION_LIMIT`]; `None` when it is longer or broke
    /// off.
    pub body: Option<bytes::Bytes>,
}

/// Takes in `request` the one way the WAF and the DMA both do.
pub async fn receive(request: axum::extract::Request) -> Received {
    let (head, body) = request.into_parts();
    let path = head
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(body, INSPECTION_LIMIT + 1).await.ok();
    Received { head, path, body }
}

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

/// Why a request is not a readable call. The message is the reason logged and answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The verb is not POST.
    #[error("only POST carries a call, not {0}")]
    Verb(String),
    /// The path is not `/API/v1/Json.asmx/<Method>` with a plain ASCII method name.
    #[error("not a DataMiner Web Services call path: {0:?}")]
    Path(String),
    /// The content type is missing or not JSON in UTF-8.
    #[error("the content type must be application/json, not {0:?}")]
    ContentType(String),
    /// The body is larger than the inspection limit.
    #[error("the body is larger than the {INSPECTION_LIMIT}-byte inspection limit")]
    TooLarge,
    /// The body is not one JSON object.
    #[error("the body is not one JSON object: {0}")]
    Body(String),
    /// A parameter value is not of a readable type.
    #[error("{0}")]
    Parameter(String),
}

/// The method a request path names.
pub fn read_method(path_and_query: &str) -> Result<&str, ReadError> {
    let refused = || ReadError::Path(path_and_query.to_owned());
    let method = path_and_query
        .strip_prefix(API_PREFIX)
        .ok_or_else(refused)?;
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(refused());
    }
    Ok(method)
}

/// Accepts `application/json`, alone or with `charset=utf-8` (media types and charset names are
/// case-insensitive, RFC 9110).
pub fn check_content_type(value: Option<&str>) -> Result<(), ReadError> {
    let raw = value.unwrap_or_default();
    let mut parts = raw.split(';').map(str::trim);
    let media = parts.next().unwrap_or_default();
    let params: Vec<&str> = parts.collect();
    let charset_ok = match params.as_slice() {
        [] => true,
        [one] => one.eq_ignore_ascii_case("charset=utf-8"),
        _ => false,
    };
    if media.eq_ignore_ascii_case("application/json") && charset_ok {
        Ok(())
    } else {
        Err(ReadError::ContentType(raw.to_owned()))
    }
}

/// The whole reading of a request: verb, path, content type and body.
pub fn read_request<'p>(
    verb: &str,
    path_and_query: &'p str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(&'p str, Map<String, Value>), ReadError> {
    if verb != "POST" {
        return Err(ReadError::Verb(verb.to_owned()));
    }
    let method = read_method(path_and_query)?;
    check_content_type(content_type)?;
    Ok((method, read_body(body)?))
}

/// One JSON object, nothing after it, no key twice.
pub fn read_body(body: &[u8]) -> Result<Map<String, Value>, ReadError> {
    if body.len() > INSPECTION_LIMIT {
        return Err(ReadError::TooLarge);
    }
    let mut reader = serde_json::Deserializer::from_slice(body);
    let map = reader
        .deserialize_map(StrictObject)
        .map_err(|e| ReadError::Body(e.to_string()))?;
    reader.end().map_err(|e| ReadError::Body(e.to_string()))?;
    Ok(map)
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

struct StrictObject;

impl<'de> Visitor<'de> for StrictObject {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object with unique keys")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let value: Value = access.next_value()?;
            if map.insert(key.clone(), value).is_some() {
                return Err(serde::de::Error::custom(format!("duplicate key {key:?}")));
            }
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(body: &str) -> Result<CanonicalCall, ReadError> {
        let body = read_body(body.as_bytes())?;
        canonical_call("GetElement", &body)
    }

    #[test]
    fn order_and_number_spelling_do_not_change_a_call() {
        let a = call(r#"{"connection":"x","dmaID":2000,"elementID":"100"}"#);
        let b = call(r#"{"elementID":100,"dmaID":"2000","connection":"y"}"#);
        assert_eq!(a, b);
        assert!(a.is_ok());
    }

    #[test]
    fn duplicates_trailing_data_and_non_objects_are_refused() {
        for body in [
            r#"{"elementID":100,"elementID":200}"#,
            r#"{"elementID":100}{"elementID":200}"#,
            r#"[{"elementID":100}]"#,
            r#"{"elementID":0100}"#,
        ] {
            assert!(call(body).is_err(), "{body}");
        }
    }

    #[test]
    fn only_the_plain_path_and_json_content_type_are_calls() {
        assert_eq!(
            read_method("/API/v1/Json.asmx/GetElement"),
            Ok("GetElement")
        );
        for path in [
            "/API/v1/Json.asmx/GetElement?x=1",
            "/API/v1/Json.asmx/x/../GetElement",
            "/API/v1/Json.asmx/GetElement;a",
            "/API/v1/Json.asmx/%47etElement",
            "/api/v1/json.asmx/GetElement",
        ] {
            assert!(read_method(path).is_err(), "{path}");
        }
        assert!(check_content_type(Some("application/json; charset=UTF-8")).is_ok());
        assert!(check_content_type(Some("application/jsonx")).is_err());
        assert!(check_content_type(None).is_err());
    }
}
