//! What the cloud's relays into a DMS's tunnel (the viewer's relay and remote access) leave out
//! of what they pass on, either way: the headers of one hop (RFC 9110 §7.6.1) and those the
//! `Connection` header names, the browser's session and credentials with the cloud, and every
//! header the DMS's side trusts when the cloud or the gateway sets it. One list for both relays,
//! so a header the DMS side learns to trust is stripped on every way in at once.

use http::HeaderMap;
use http::header::{self, HeaderName, HeaderValue};

use crate::dms::TRUSTED_HEADERS;

const NOT_FORWARDED: &[HeaderName] = &[
    header::CONNECTION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
    header::PROXY_AUTHENTICATE,
    header::HOST,
    header::CONTENT_LENGTH,
    header::COOKIE,
    header::AUTHORIZATION,
];

/// The most header bytes a relay sends into a tunnel with one request, counted as HTTP/2
/// counts a header list (RFC 9113 §6.5.2: each field's name and value and 32). The agent's
/// HTTP/2 server takes 16 KiB; a block it cannot take breaks the header compression state of
/// the whole connection, and so every stream of the tunnel, other recipients' and remote
/// access's with it. What the relay adds after this check (share, viewer, account) fits in the
/// rest.
pub(crate) const INTO_TUNNEL: usize = 12 * 1024;

/// The size of `headers` as a header list, as HTTP/2 counts it.
pub(crate) fn list_size(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 32)
        .sum()
}

/// Whether `headers` are too many for a tunnel, by `budget` (`INTO_TUNNEL`; `None`, the
/// `cloud.relay-passes-any-header-size` fault: any size goes in).
pub(crate) fn too_large(headers: &HeaderMap, budget: Option<usize>) -> bool {
    budget.is_some_and(|budget| list_size(headers) > budget)
}

/// Removes what no relay passes on; the headers the DMS side trusts too, unless
/// `keeps_trusted` (the `cloud.relay-keeps-trust-headers` and
/// `cloud.remote-relay-passes-trusted-headers` faults).
pub(crate) fn strip(headers: &mut HeaderMap, keeps_trusted: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok())
        .collect();
    for name in NOT_FORWARDED.iter().chain(&named) {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
    if !keeps_trusted {
        for name in TRUSTED_HEADERS {
            headers.remove(*name);
        }
    }
    trim_values(headers);
}

/// Drops the whitespace around every value (RFC 9110 §5.5): an HTTP/2 field with it is
/// malformed (RFC 9113 §8.2.1), and the side that gets it may refuse the whole stream, or
/// read the value otherwise than the cloud did.
fn trim_values(headers: &mut HeaderMap) {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let padded = headers.values().any(|v| {
        let bytes = v.as_bytes();
        bytes.first().is_some_and(blank) || bytes.last().is_some_and(blank)
    });
    if !padded {
        return;
    }
    let mut trimmed = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers.iter() {
        let bytes = value.as_bytes();
        let start = bytes.iter().position(|b| !blank(b)).unwrap_or(bytes.len());
        let end = bytes
            .iter()
            .rposition(|b| !blank(b))
            .map_or(start, |i| i + 1);
        if let Ok(value) = HeaderValue::from_bytes(&bytes[start..end]) {
            trimmed.append(name.clone(), value);
        }
    }
    *headers = trimmed;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_pass_without_the_whitespace_around_them() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", HeaderValue::from_static(" one \t"));
        headers.append("x-a", HeaderValue::from_static("two"));
        headers.append("x-b", HeaderValue::from_static("in side"));
        headers.append("x-c", HeaderValue::from_static("  "));
        strip(&mut headers, false);
        let all = |name: &str| {
            headers
                .get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(all("x-a"), ["one", "two"]);
        assert_eq!(all("x-b"), ["in side"]);
        assert_eq!(all("x-c"), [""]);
    }

    #[test]
    fn a_header_list_is_counted_as_http2_counts_it() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", HeaderValue::from_static("12345"));
        assert_eq!(list_size(&headers), 3 + 5 + 32);
        let big = HeaderValue::from_bytes(&[b'A'; 960]).expect("a value");
        for i in 0..12 {
            headers.append(
                HeaderName::try_from(format!("x-h{i}")).expect("a name"),
                big.clone(),
            );
        }
        assert!(!too_large(&headers, Some(INTO_TUNNEL)));
        headers.append("x-last", big);
        assert!(too_large(&headers, Some(INTO_TUNNEL)));
        assert!(!too_large(&headers, None));
    }
}
