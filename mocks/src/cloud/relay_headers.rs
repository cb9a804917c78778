//! What the cloud's relays into a DMS's tunnel (the viewer's relay and remote access) leave out
//! of what they pass on, either way: the headers of one hop (RFC 9110 §7.6.1) and those the
//! `Connection` header names, the browser's session and credentials with the cloud, and every
//! header the DMS's side trusts when the cloud or the gateway sets it. One list for both relays,
//! so a header the DMS side learns to trust is stripped on every way in at once.

use http::HeaderMap;
use http::header::{self, HeaderName};

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
}
