//! Secrets are removed from the model once, before any renderer sees it: a report is shared
//! widely, and a renderer added later must not be able to leak what another one hid.
//!
//! What counts as a secret: JWT-shaped strings, long hex runs (refresh keys, signing keys),
//! `Bearer` credentials, the value of any secret-named key (in JSON evidence and in text that
//! quotes it), and the exact strings the caller registers.

use serde_json::Value;

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Hex runs this long are keys or digests of keys; shorter ones are IDs and counters.
const MIN_HEX_SECRET: usize = 32;

/// Key names whose values are secrets, compared lowercased with `-` read as `_`.
const SECRET_KEYS: &[&str] = &[
    "password",
    "secret",
    "token",
    "refresh_token",
    "access_token",
    "refresh_key",
    "client_secret",
    "signing_key",
    "authorization",
];

/// Removes secrets; `secrets` are exact strings the caller knows to be secret.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Registered secrets shorter than this would redact ordinary words; they are ignored.
    pub const MIN_SECRET_LEN: usize = 4;

    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .filter(|s| s.len() >= Self::MIN_SECRET_LEN)
            .collect();
        // Longest first, so a secret that contains another is removed whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self { secrets }
    }

    /// Redacts every string of a JSON document, and every value under a secret-named key.
    pub fn value(&self, value: &mut Value) {
        match value {
            Value::String(text) => *text = self.text(text),
            Value::Array(items) => items.iter_mut().for_each(|v| self.value(v)),
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if is_secret_key(key) && !v.is_null() {
                        *v = Value::String(REDACTED.to_owned());
                    } else {
                        self.value(v);
                    }
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// Redacts free text: a failure's detail, an evidence line.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), REDACTED);
        }
        let out = keyed_values(&out);
        let out = bearer(&out);
        let out = jwts(&out);
        hex_runs(&out)
    }
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase().replace('-', "_");
    SECRET_KEYS.contains(&key.as_str())
        || key.ends_with("_password")
        || key.ends_with("_secret")
        || key.ends_with("_token")
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// `eyJ…` followed by two more base64url segments (the last may be empty: `alg: none`).
fn jwts(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let starts = text[i..].starts_with("eyJ") && (i == 0 || !is_b64url(bytes[i - 1]));
        if starts {
            let mut j = i;
            let mut dots = 0;
            while j < bytes.len() && (is_b64url(bytes[j]) || (bytes[j] == b'.' && dots < 2)) {
                if bytes[j] == b'.' {
                    dots += 1;
                }
                j += 1;
            }
            if dots == 2 {
                out.push_str(REDACTED);
                i = j;
                continue;
            }
        }
        let ch = text[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Maximal runs of at least `MIN_HEX_SECRET` hex digits.
fn hex_runs(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_hexdigit() {
            let mut j = i;
            while j < bytes.len() && bytes[j].is_ascii_hexdigit() {
                j += 1;
            }
            // A hex run glued to other word characters is part of a longer word, not a key.
            let glued =
                (i > 0 && is_b64url(bytes[i - 1])) || (j < bytes.len() && is_b64url(bytes[j]));
            if j - i >= MIN_HEX_SECRET && !glued {
                out.push_str(REDACTED);
            } else {
                out.push_str(&text[i..j]);
            }
            i = j;
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// `Bearer <credential>`, in any casing.
fn bearer(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(found) = lower[i..].find("bearer ") {
        let start = i + found + "bearer ".len();
        out.push_str(&text[i..start]);
        let rest = &text[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | '}' | ']'))
            .unwrap_or(rest.len());
        if end > 0 && !rest.starts_with(REDACTED) {
            out.push_str(REDACTED);
        } else {
            out.push_str(&rest[..end]);
        }
        i = start + end;
    }
    out.push_str(&text[i..]);
    out
}

/// `"password":"…"`, `password=…`, `token: …` inside free text (a failure quoting JSON or a
/// query string): the value after a secret-named key.
fn keyed_values(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if !(bytes[i].is_ascii_alphabetic() && (i == 0 || !is_key_char(bytes[i - 1]))) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < bytes.len() && is_key_char(bytes[j]) {
            j += 1;
        }
        if !is_secret_key(&text[i..j]) {
            i = j;
            continue;
        }
        // Optional closing quote of a JSON key, spaces, then `:` or `=`.
        let mut k = j;
        if k < bytes.len() && (bytes[k] == b'"' || bytes[k] == b'\\') {
            while k < bytes.len() && (bytes[k] == b'"' || bytes[k] == b'\\') {
                k += 1;
            }
        }
        while k < bytes.len() && bytes[k] == b' ' {
            k += 1;
        }
        if k >= bytes.len() || !(bytes[k] == b':' || bytes[k] == b'=') {
            i = j;
            continue;
        }
        k += 1;
        while k < bytes.len() && bytes[k] == b' ' {
            k += 1;
        }
        let (value_start, value_end) = value_span(bytes, k);
        if value_end > value_start && &text[value_start..value_end] != "null" {
            out.push_str(&text[copied..value_start]);
            out.push_str(REDACTED);
            copied = value_end;
        }
        i = value_end.max(j);
    }
    out.push_str(&text[copied..]);
    out
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The span of a value starting at `k`: a quoted string (escaped quotes included, its quotes
/// left in place) or a bare word.
fn value_span(bytes: &[u8], k: usize) -> (usize, usize) {
    let mut start = k;
    let mut quoted = false;
    while start < bytes.len() && (bytes[start] == b'"' || bytes[start] == b'\\') {
        start += 1;
        quoted = true;
    }
    let mut end = start;
    if quoted {
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        let end = end.min(bytes.len());
        // An escaped quote's backslash belongs to the delimiter, not the value.
        let end = if end > start && bytes[end - 1] == b'\\' {
            end - 1
        } else {
            end
        };
        return (start, end);
    }
    let word_end = |from: usize| {
        let mut end = from;
        while end < bytes.len()
            && !bytes[end].is_ascii_whitespace()
            && !matches!(bytes[end], b',' | b';' | b'&' | b'}' | b']' | b')')
        {
            end += 1;
        }
        end
    };
    end = word_end(start);
    // `Authorization: Bearer <credential>`: the scheme alone is no secret, what follows is.
    let scheme = bytes[start..end].to_ascii_lowercase();
    if (scheme == b"bearer" || scheme == b"basic") && bytes.get(end) == Some(&b' ') {
        end = word_end(end + 1);
    }
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkbXMtMSJ9.c2lnbmF0dXJlLWJ5dGVz";
    const HEX: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn tokens_keys_and_bearer_values_disappear_from_text() {
        let r = Redactor::default();
        let text = format!("got {JWT}, key {HEX}; header Authorization: Bearer abc.def-1 ok");
        let out = r.text(&text);
        assert!(
            !out.contains(JWT) && !out.contains(HEX) && !out.contains("abc.def-1"),
            "{out}"
        );
        assert!(out.contains("got [redacted]"), "{out}");
    }

    #[test]
    fn an_unsigned_jwt_is_still_a_jwt() {
        let out = Redactor::default().text("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0. end");
        assert_eq!(out, "[redacted] end");
    }

    #[test]
    fn values_after_secret_keys_go_in_json_and_in_quoted_json() {
        let r = Redactor::default();
        let mut v =
            json!({"login": "ann", "password": "Zq9!xw", "nested": [{"refresh_token": "r1"}]});
        r.value(&mut v);
        assert_eq!(
            v,
            json!({"login": "ann", "password": REDACTED, "nested": [{"refresh_token": REDACTED}]})
        );
        let out = r.text(r#"observed {"password":"p\"w d","x":1} and secret=hunter2&y=2"#);
        assert_eq!(
            out,
            r#"observed {"password":"[redacted]","x":1} and secret=[redacted]&y=2"#
        );
    }

    #[test]
    fn registered_secrets_go_and_ordinary_words_stay() {
        let r = Redactor::new(["s3cr3t-value".to_owned(), "ab".to_owned()]);
        assert_eq!(r.text("x s3cr3t-value y ab"), "x [redacted] y ab");
        let plain = "token lifetime is 604800 s; scenario tokens.refresh-is-single-use";
        assert_eq!(r.text(plain), plain);
        assert_eq!(
            r.text("uuid 123e4567-e89b-12d3-a456-426614174000"),
            "uuid 123e4567-e89b-12d3-a456-426614174000"
        );
    }
}
