//! IDs in DataMiner Web Services calls: the real API takes `100` and `"100"` alike. This is the
//! one place that reads them, so every reader of a call agrees on what it names.

use serde_json::{Map, Value};

/// Reads the ID named `key`: a JSON integer, or a string of ASCII digits, within `u32`.
/// Everything else (signs, exponents, leading zeros, whitespace, other digit scripts) is refused.
pub fn read_id(body: &Map<String, Value>, key: &str) -> Result<u32, String> {
    match body.get(key) {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("{key} is not a valid ID")),
        Some(Value::String(s)) if is_canonical_digits(s) => {
            s.parse().map_err(|_| format!("{key} is not a valid ID"))
        }
        Some(_) => Err(format!("{key} is not a valid ID")),
        None => Err(format!("{key} is missing")),
    }
}

fn is_canonical_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(v: Value) -> Result<u32, String> {
        let Value::Object(body) = json!({ "elementID": v }) else {
            unreachable!()
        };
        read_id(&body, "elementID")
    }

    #[test]
    fn numbers_and_numeric_strings_name_the_same_id() {
        assert_eq!(id(json!(100)), Ok(100));
        assert_eq!(id(json!("100")), Ok(100));
    }

    #[test]
    fn look_alikes_are_refused() {
        for v in [
            json!("0100"),
            json!("+100"),
            json!("1e2"),
            json!(1e2),
            json!(" 100"),
            json!("１００"),
            json!([100]),
            json!({"$ne": 0}),
            json!(-1),
            json!(4_294_967_296u64),
            json!(""),
        ] {
            assert!(id(v.clone()).is_err(), "{v} accepted");
        }
    }
}
