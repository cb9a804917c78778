//! Looking for the DMS's data in what the cloud keeps: each canary of `fixtures/dma.json`
//! (element names, alarm texts, parameter values) and a point of the trend a viewer read, in
//! plain, JSON-escaped, hex and base64 (at any alignment) forms, inside the bytes as they are
//! and inside every gzip member found in them.

use std::io::Read;

use fixtures::DmaData;

use super::reader::Places;

use crate::suites::tokens::leaks;

/// The most one gzip member may inflate to before the search gives up on it.
const INFLATE_LIMIT: u64 = 256 * 1024 * 1024;

/// One thing of the DMS's to look for, named for the report.
#[derive(Debug, Clone)]
pub(super) struct Canary {
    pub name: String,
    pub value: String,
}

/// Every canary of the DMA's data: its element names, alarm texts and parameter values that
/// carry a `CANARY-` mark, and `trend_points` (texts the scenario computed of a trend read).
pub(super) fn canaries(data: &DmaData, trend_points: &[String]) -> Vec<Canary> {
    let mut found = Vec::new();
    for element in &data.elements {
        let texts = std::iter::once(("element name", element.name.as_str()))
            .chain(
                element
                    .alarms
                    .iter()
                    .map(|a| ("alarm text", a.value.as_str())),
            )
            .chain(
                element
                    .parameters
                    .iter()
                    .map(|p| ("parameter value", p.value.as_str())),
            );
        for (kind, text) in texts {
            if text.contains("CANARY-") {
                found.push(Canary {
                    name: format!("{kind} {text:?}"),
                    value: text.to_owned(),
                });
            }
        }
    }
    for point in trend_points {
        found.push(Canary {
            name: format!("trend point {point:?}"),
            value: point.clone(),
        });
    }
    found
}

/// Every form of `value` to search for, by name.
fn forms(value: &str) -> Vec<(String, Vec<u8>)> {
    let mut forms = leaks::spellings(value.as_bytes());
    let escaped = serde_json::to_string(value).unwrap_or_default();
    let escaped = escaped.trim_matches('"');
    forms.push(("JSON-escaped".to_owned(), escaped.as_bytes().to_vec()));
    // The escaping some serialisers apply to every non-alphanumeric character.
    let unicode: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_string()
            } else {
                format!("\\u{:04x}", u32::from(c))
            }
        })
        .collect();
    forms.push(("JSON \\u-escaped".to_owned(), unicode.into_bytes()));
    forms
}

/// `bytes` and what every gzip member in it inflates to, each named.
fn readings(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![("as stored".to_owned(), bytes.to_vec())];
    let mut at = 0;
    while let Some(offset) = find(&bytes[at..], &[0x1f, 0x8b, 0x08]) {
        let start = at + offset;
        let mut inflated = Vec::new();
        let read = flate2::read::GzDecoder::new(&bytes[start..])
            .take(INFLATE_LIMIT)
            .read_to_end(&mut inflated);
        if read.is_ok() && !inflated.is_empty() {
            out.push((format!("gunzipped at byte {start}"), inflated));
        }
        at = start + 1;
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Where each canary occurs in `places`: `"<canary> (<form>, <reading>) in <place>"`.
pub(super) fn findings(places: &[(String, Vec<u8>)], canaries: &[Canary]) -> Vec<String> {
    let spelt: Vec<(&Canary, Places)> = canaries.iter().map(|c| (c, forms(&c.value))).collect();
    let mut found = Vec::new();
    for (place, bytes) in places {
        for (reading, text) in readings(bytes) {
            for (canary, forms) in &spelt {
                if let Some((form, _)) = forms
                    .iter()
                    .find(|(_, needle)| leaks::contains(&text, needle))
                {
                    found.push(format!("{} ({form}, {reading}) in {place}", canary.name));
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn canary() -> Vec<Canary> {
        vec![Canary {
            name: "alarm".into(),
            value: "CANARY-7f3a-alarm-low-signal".into(),
        }]
    }

    #[test]
    fn a_canary_is_found_plain_escaped_base64_and_gzipped() {
        let plain = b"xx CANARY-7f3a-alarm-low-signal yy".to_vec();
        let escaped = br"{\u0022CANARY\u002d7f3a\u002dalarm\u002dlow\u002dsignal".to_vec();
        let base64 = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            b"{\"v\":\"CANARY-7f3a-alarm-low-signal\"}",
        )
        .into_bytes();
        for bytes in [plain, escaped, base64] {
            let places = vec![("place".to_owned(), bytes.clone())];
            assert_eq!(findings(&places, &canary()).len(), 1, "{bytes:?}");
        }
        // Long enough that deflate codes it rather than storing it: found only inflated.
        let answer = "{\"v\":\"CANARY-7f3a-alarm-low-signal\"},".repeat(50);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(answer.as_bytes()).unwrap();
        let mut gzipped = b"header".to_vec();
        gzipped.extend(gz.finish().unwrap());
        let found = findings(&[("place".to_owned(), gzipped)], &canary());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("gunzipped at byte 6"), "{found:?}");
        let clean = vec![("place".to_owned(), b"CANARY-7f3a-alarm".to_vec())];
        assert!(findings(&clean, &canary()).is_empty());
    }
}
