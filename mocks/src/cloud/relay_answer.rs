//! What a viewer's browser gets of a DMS's answer. The sharing host relays the DMS's dashboard
//! app under the link's path, on the cloud's own origin, where the recipient's session with
//! dataminer.services lives too; a DMS is any organisation's, so what it answers is treated as
//! untrusted content: only the headers that describe the body pass, and the cloud sets its own
//! policy on every answer: scripts, styles, images and requests only from under the link's own
//! path (a DMS's page cannot read the cloud's pages or API with the recipient's session), no
//! form posts, framed by the cloud's own viewer page only (`viewer_frame`), and a browsing
//! context of its own (a window it opens on the cloud's pages is not its to read). And a
//! sandbox with scripts only: the page runs in an opaque origin, so `document.cookie` throws
//! and it sets no cookie of the site's (a page that writes a few hundred makes the browser
//! evict the site's session cookies, then sets its own), and it submits no form, opens no
//! popup and does not navigate the tab it is framed in. The cloud's frame puts the same
//! sandbox on it: either alone holds. Nothing the DMS says about caching passes: the answer is
//! never stored.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// The headers of a DMS's answer that reach the browser: they describe the body, nothing else.
const KEPT: &[HeaderName] = &[
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::CONTENT_LANGUAGE,
    header::CONTENT_ENCODING,
];

/// Keeps only what describes the body and sets the cloud's policy for an answer relayed under
/// `viewer_base` (`https://sharing.dataminer.services:PORT/s/{token}/v/{viewer}/`), framed by
/// pages of `sharing_origin` only, sandboxed unless `sandbox` is off (`cloud.relay-unsandboxed`).
pub(crate) fn confine(
    headers: &mut HeaderMap,
    viewer_base: &str,
    sharing_origin: &str,
    sandbox: bool,
) {
    let mut kept = HeaderMap::new();
    for name in KEPT {
        for value in headers.get_all(name) {
            kept.append(name.clone(), value.clone());
        }
    }
    // No allow-same-origin, allow-forms, allow-popups or allow-top-navigation: scripts only.
    let sandbox = if sandbox {
        "sandbox allow-scripts; "
    } else {
        ""
    };
    let policy = format!(
        "{sandbox}default-src 'none'; script-src {viewer_base}; connect-src {viewer_base}; \
         style-src {viewer_base}; img-src {viewer_base}; base-uri 'none'; form-action 'none'; \
         frame-ancestors {sharing_origin}"
    );
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
        // The path is a capability: no copy of what it served stays in a cache.
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in fixed {
        kept.insert(name, HeaderValue::from_static(value));
    }
    kept.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    // The sandboxed page's origin is opaque, so even its own script is a cross-origin load:
    // `same-origin` would block it. What guards the answer is the capability in its path.
    kept.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        kept.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    *headers = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_body_headers_pass_and_the_clouds_policy_is_set() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("content-type", "text/html"),
            ("strict-transport-security", "max-age=1"),
            ("refresh", "0;url=https://evil.example/"),
            ("access-control-allow-origin", "*"),
            ("content-security-policy", "script-src *"),
            ("location", "https://evil.example/"),
            ("cache-control", "public, max-age=31536000, immutable"),
            ("expires", "Wed, 01 Jan 2031 00:00:00 GMT"),
            ("etag", "\"v1\""),
        ] {
            headers.append(name, value.parse().expect("a header value"));
        }
        confine(
            &mut headers,
            "https://sharing.dataminer.services:1/s/t/v/w/",
            "https://sharing.dataminer.services:1",
            true,
        );
        assert_eq!(
            headers.get("content-type").map(|v| v.as_bytes()),
            Some(&b"text/html"[..])
        );
        for gone in [
            "strict-transport-security",
            "refresh",
            "access-control-allow-origin",
            "location",
            "expires",
            "etag",
        ] {
            assert!(headers.get(gone).is_none(), "{gone} passed");
        }
        assert_eq!(
            headers.get("cache-control").map(|v| v.as_bytes()),
            Some(&b"no-store"[..])
        );
        let csp: Vec<_> = headers.get_all("content-security-policy").iter().collect();
        assert_eq!(csp.len(), 1);
        let csp = csp[0].to_str().unwrap_or_default();
        assert!(csp.contains("connect-src https://sharing.dataminer.services:1/s/t/v/w/;"));
        assert!(csp.ends_with("frame-ancestors https://sharing.dataminer.services:1"));
        let sandbox = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("sandbox"));
        assert_eq!(sandbox, Some("sandbox allow-scripts"));
    }
}
