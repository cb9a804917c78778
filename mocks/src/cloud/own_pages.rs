//! Whether a browser's request that changes something comes from the cloud's own pages on the
//! same host. Every dataminer.services host is one site, so `SameSite` cookies reach a host from
//! pages of another (a shared dashboard, which the sharing host relays from a DMS, is one):
//! only the browser's `Origin` and `Sec-Fetch-Site` tell the host's own pages apart. A client
//! that sends neither (curl, a DMS, a script) is no browser carrying someone's cookie along.

use http::HeaderMap;

/// Whether `headers` come from a page of `own_url` (`https://host:port/`), or from no browser.
pub(crate) fn from_own_pages(headers: &HeaderMap, own_url: &str) -> bool {
    let own = own_url.trim_end_matches('/');
    let origin = headers
        .get_all(http::header::ORIGIN)
        .iter()
        .collect::<Vec<_>>();
    let fetch_site = headers.get_all("sec-fetch-site").iter().collect::<Vec<_>>();
    let same_origin = matches!(fetch_site.as_slice(), [one] if one.as_bytes() == b"same-origin");
    let origin_ok = match origin.as_slice() {
        [] => true,
        // A page whose referrer policy is `no-referrer` (the cloud's own are) posts its forms
        // with `Origin: null`; only the browser's own `Sec-Fetch-Site` then says whose it is.
        [one] if one.as_bytes() == b"null" => same_origin,
        [one] => one.as_bytes() == own.as_bytes(),
        _ => false,
    };
    let site_ok = match fetch_site.as_slice() {
        [] => true,
        [one] => matches!(one.as_bytes(), b"same-origin" | b"none"),
        _ => false,
    };
    origin_ok && site_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().expect("a header value"));
        }
        map
    }

    #[test]
    fn only_the_hosts_own_pages_or_no_browser_pass() {
        let own = "https://connection.dataminer.services:8443/";
        assert!(from_own_pages(&headers(&[]), own));
        assert!(from_own_pages(
            &headers(&[("origin", "https://connection.dataminer.services:8443")]),
            own
        ));
        assert!(!from_own_pages(
            &headers(&[("origin", "https://sharing.dataminer.services:8443")]),
            own
        ));
        assert!(!from_own_pages(
            &headers(&[("sec-fetch-site", "same-site")]),
            own
        ));
        assert!(!from_own_pages(&headers(&[("origin", "null")]), own));
        assert!(!from_own_pages(
            &headers(&[("origin", "null"), ("sec-fetch-site", "cross-site")]),
            own
        ));
        assert!(from_own_pages(
            &headers(&[("origin", "null"), ("sec-fetch-site", "same-origin")]),
            own
        ));
    }
}
