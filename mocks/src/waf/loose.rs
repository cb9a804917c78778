//! The WAF's own request reader, used when its policy says so (fault
//! `waf.first-duplicate-key-wins`): it keeps the first of duplicated keys where the DMA's reader
//! refuses the body. A parser differential, as a WAF with its own JSON parser would have.

use std::fmt;

use serde::de::{Deserializer as _, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::dma::canonical::{INSPECTION_LIMIT, ReadError, check_content_type, read_method};

pub(crate) fn read_request_first_wins<'p>(
    verb: &str,
    path: &'p str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(&'p str, Map<String, Value>), ReadError> {
    if verb != "POST" {
        return Err(ReadError::Verb(verb.to_owned()));
    }
    let method = read_method(path)?;
    check_content_type(content_type)?;
    if body.len() > INSPECTION_LIMIT {
        return Err(ReadError::TooLarge);
    }
    let mut reader = serde_json::Deserializer::from_slice(body);
    let map = reader
        .deserialize_map(FirstWins)
        .map_err(|e| ReadError::Body(e.to_string()))?;
    reader.end().map_err(|e| ReadError::Body(e.to_string()))?;
    Ok((method, map))
}

struct FirstWins;

impl<'de> Visitor<'de> for FirstWins {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let value: Value = access.next_value()?;
            map.entry(key).or_insert(value);
        }
        Ok(map)
    }
}
