//! Looking for a secret in what was recorded, in every spelling it could take there: as it
//! is, in hex (either case), in base64 and base64url at any alignment inside a longer encoded
//! text (a cookie that base64s a JSON object, say), and in texts read the way their reader
//! would (percent-decoded as a URL or form, HTML entities undone as a page).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// One thing to look for, under a name for the report (never the value).
#[derive(Debug, Clone)]
pub(crate) struct Secret {
    pub name: String,
    pub value: Vec<u8>,
}

impl Secret {
    pub fn new(name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// Every spelling of `secret` to search for, by name.
pub(crate) fn spellings(secret: &[u8]) -> Vec<(String, Vec<u8>)> {
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let mut forms = vec![
        ("raw".to_owned(), secret.to_vec()),
        ("hex".to_owned(), hex.clone().into_bytes()),
        ("HEX".to_owned(), hex.to_ascii_uppercase().into_bytes()),
    ];
    for (name, engine) in [
        ("base64", &STANDARD_NO_PAD),
        ("base64url", &URL_SAFE_NO_PAD),
    ] {
        for shift in 0..3 {
            if let Some(inner) = encoded_inside(engine, secret, shift) {
                forms.push((format!("{name} at offset {shift}"), inner));
            }
        }
    }
    forms
}

/// The base64 characters that `secret` alone decides when it sits `shift` bytes past a
/// 3-byte boundary of a longer encoded text: the characters its first and last bytes share
/// with the neighbours are left out.
fn encoded_inside(
    engine: &base64::engine::GeneralPurpose,
    secret: &[u8],
    shift: usize,
) -> Option<Vec<u8>> {
    let mut padded = vec![0u8; shift];
    padded.extend_from_slice(secret);
    let encoded = engine.encode(&padded).into_bytes();
    let first = (8 * shift).div_ceil(6);
    let last = (8 * (shift + secret.len())) / 6;
    // Too short to say anything on its own: a few characters match anywhere.
    (last > first + 8).then(|| encoded[first..last].to_vec())
}

/// `text` as its readers could read it: as it is, percent-decoded (`+` as a space, as forms
/// have it) and with HTML's entities undone.
pub(super) fn readings(text: &[u8]) -> Vec<Vec<u8>> {
    vec![text.to_vec(), percent_decoded(text), html_unescaped(text)]
}

/// Where each secret occurs in `places`, in any spelling and reading: `"<secret> (<spelling>)
/// in <place>"`.
pub(crate) fn findings(places: &[(String, Vec<u8>)], secrets: &[Secret]) -> Vec<String> {
    let mut found = Vec::new();
    for secret in secrets.iter().filter(|s| !s.value.is_empty()) {
        let spelt = spellings(&secret.value);
        for (place, content) in places {
            let read = readings(content);
            if let Some((spelling, _)) = spelt
                .iter()
                .find(|(_, needle)| read.iter().any(|text| contains(text, needle)))
            {
                found.push(format!("{} ({spelling}) in {place}", secret.name));
            }
        }
    }
    found
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack.len() >= needle.len()
        && haystack.windows(needle.len()).any(|w| w == needle)
}

fn percent_decoded(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let hex = text
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (text[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (other, _) => {
                out.push(other);
                i += 1;
            }
        }
    }
    out
}

fn html_unescaped(text: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(text)
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    #[test]
    fn a_secret_is_found_inside_a_longer_encoded_text_at_any_alignment() {
        let secret = b"eyJhbGciOiJIUzI1NiJ9.secret-part.signature-part";
        for prefix in ["", "a", "ab", "abc", "{\"x\":\""] {
            let wrapped = format!("{prefix}{}\"}}", String::from_utf8_lossy(secret));
            let places = [
                ("std".to_owned(), STANDARD.encode(&wrapped).into_bytes()),
                (
                    "url".to_owned(),
                    URL_SAFE_NO_PAD.encode(&wrapped).into_bytes(),
                ),
            ];
            let found = findings(&places, &[Secret::new("token", secret.to_vec())]);
            assert_eq!(found.len(), 2, "{prefix:?}: {found:?}");
        }
        let percent = [(
            "query".to_owned(),
            b"x=ey%4AhbGciOiJIUzI1NiJ9.secret-part.signature-part".to_vec(),
        )];
        assert_eq!(
            findings(&percent, &[Secret::new("t", secret.to_vec())]).len(),
            1
        );
        let key = [7u8; 32];
        let hex: String = key.iter().map(|b| format!("{b:02X}")).collect();
        let places = [("log".to_owned(), format!("key={hex}").into_bytes())];
        assert_eq!(
            findings(&places, &[Secret::new("k", key.to_vec())]).len(),
            1
        );
        let clean = [("log".to_owned(), b"nothing here".to_vec())];
        assert!(findings(&clean, &[Secret::new("k", key.to_vec())]).is_empty());
    }
}
