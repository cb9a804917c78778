//! The WAF's reading of a call's body and values, its own code: JSON objects and forms whose
//! every name appears once, and the canonical form of what they say. Anything a second reader
//! could take another way (a name twice, in any case for a form; a stray or broken escape; an
//! ID that is not plainly a number) is refused.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserializer as _, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::dms::canonical::{CanonicalCall, CanonicalValue};

/// The parameters that hold IDs, to the WAF: numbers, or strings of the same digits.
const ID_NAMES: &[&str] = &["dmaID", "elementID", "parameterID", "viewID", "alarmID"];

/// What the JSON reader does with a name that comes twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Duplicates {
    /// The body is refused: two readers may keep different ones.
    Refused,
    /// The first is kept (`waf.first-duplicate-key-wins`), where the DMA keeps the last.
    FirstWins,
}

/// One JSON object, nothing after it.
pub(crate) fn json(body: &[u8], duplicates: Duplicates) -> Result<Map<String, Value>, String> {
    let mut reader = serde_json::Deserializer::from_slice(body);
    let map = reader
        .deserialize_map(Object(duplicates))
        .map_err(|e| e.to_string())?;
    reader.end().map_err(|e| e.to_string())?;
    Ok(map)
}

/// A form of `name=value` pairs, each name once whatever its case, every byte either plain or
/// a well-formed escape, the decoded text UTF-8.
pub(crate) fn form(body: &[u8]) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    if body.is_empty() {
        return Ok(map);
    }
    for pair in body.split(|&b| b == b'&') {
        let Some(at) = pair.iter().position(|&b| b == b'=') else {
            return Err("a form field without '='".into());
        };
        let (name, value) = (decode(&pair[..at])?, decode(&pair[at + 1..])?);
        if name.is_empty() {
            return Err("a form field without a name".into());
        }
        if map.keys().any(|k| k.eq_ignore_ascii_case(&name)) {
            return Err(format!("the form names {name:?} twice"));
        }
        map.insert(name, Value::String(value));
    }
    Ok(map)
}

/// One form component: unreserved bytes, `+` for a space, `%XX` escapes; nothing else.
fn decode(raw: &[u8]) -> Result<String, String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
                let (Some(h), Some(l)) = (hex(bytes.next()), hex(bytes.next())) else {
                    return Err("a broken %-escape in the form".into());
                };
                out.push(u8::try_from(h * 16 + l).map_err(|e| e.to_string())?);
            }
            b if b.is_ascii_alphanumeric() || b"-._~*".contains(&b) => out.push(b),
            other => return Err(format!("the byte {other:#04x} unescaped in the form")),
        }
    }
    String::from_utf8(out).map_err(|_| "a form value that is not UTF-8".to_owned())
}

/// The canonical form of `method` with `fields`, as the WAF reads values: IDs as JSON
/// integers or strings of plain digits (no sign, no leading zero, within 32 bits), every other
/// parameter a string.
pub(crate) fn canonical(
    method: &str,
    fields: &Map<String, Value>,
) -> Result<CanonicalCall, String> {
    let mut parameters = BTreeMap::new();
    for (name, value) in fields {
        if name == "connection" {
            continue;
        }
        let canonical = if ID_NAMES.contains(&name.as_str()) {
            CanonicalValue::Id(id(value).ok_or_else(|| format!("{name} is not a plain ID"))?)
        } else if let Value::String(text) = value {
            CanonicalValue::Text(text.clone())
        } else {
            return Err(format!("{name} is not a string"));
        };
        parameters.insert(name.clone(), canonical);
    }
    Ok(CanonicalCall {
        method: method.to_owned(),
        parameters,
    })
}

fn id(value: &Value) -> Option<u32> {
    match value {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => {
            let plain = !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && (s == "0" || !s.starts_with('0'));
            plain.then(|| s.parse().ok()).flatten()
        }
        _ => None,
    }
}

struct Object(Duplicates);

impl<'de> Visitor<'de> for Object {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object with unique keys")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let value: Value = access.next_value()?;
            if map.contains_key(&key) {
                match self.0 {
                    Duplicates::Refused => {
                        return Err(serde::de::Error::custom(format!("duplicate key {key:?}")));
                    }
                    Duplicates::FirstWins => continue,
                }
            }
            map.insert(key, value);
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_twice_is_refused_in_either_encoding() {
        assert!(json(br#"{"elementID":100,"elementID":200}"#, Duplicates::Refused).is_err());
        let first = json(
            br#"{"elementID":100,"elementID":200}"#,
            Duplicates::FirstWins,
        );
        assert_eq!(
            first.ok().and_then(|m| m.get("elementID").cloned()),
            Some(100.into())
        );
        assert!(form(b"elementID=100&ElementID=200").is_err());
        assert!(
            json(
                br#"{"elementID":100}{"elementID":200}"#,
                Duplicates::Refused
            )
            .is_err()
        );
    }

    #[test]
    fn forms_decode_one_way_or_not_at_all() {
        let read = form(b"connection=a%2Bb+c&elementID=100").expect("a plain form");
        assert_eq!(read["connection"], "a+b c");
        for bad in [
            &b"elementID=1%0"[..],
            b"elementID=100;",
            b"elementID",
            b"e=%FF",
            b"=1",
        ] {
            assert!(form(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn ids_are_plain_numbers_or_their_digits() {
        let fields = |v: Value| {
            let mut m = Map::new();
            m.insert("elementID".into(), v);
            canonical("GetElement", &m)
        };
        assert_eq!(fields(100.into()), fields("100".into()));
        assert!(fields(100.into()).is_ok());
        for v in ["0100", "+100", " 100", "1e2", ""] {
            assert!(fields(v.into()).is_err(), "{v}");
        }
        assert!(fields(serde_json::json!(1e2)).is_err());
        assert!(fields(serde_json::json!(100.0)).is_err());
    }
}
