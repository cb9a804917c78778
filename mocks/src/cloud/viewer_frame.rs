//! What a recipient's tab shows at a viewer's URL: a page of the cloud's own, never the DMS's.
//! A DMS is any organisation's, and a document at the top of a tab may always navigate that
//! tab and draw anything in it: served there, a DMS's page could send the recipient to any
//! site, or show a "sign in again" form of its own under the sharing host's name. So a
//! browser's top-level navigation to a viewer's URL gets this page: a banner the DMS cannot
//! draw over, saying whose the content below is (the organisation the DMS was approved into
//! and the DMS's ID, as the cloud verified them), and the DMS's page in a sandboxed frame
//! with scripts only: it cannot navigate the tab, open a window, submit a form or show a
//! dialog. The frame's request for the same URL is what the relay serves the DMS's page to.

use axum::response::{Html, IntoResponse, Response};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};

use super::pages::escape;

/// What a request under a viewer's URL is, by the fetch metadata a browser sends with every
/// request (`Sec-Fetch-Dest`, `Sec-Fetch-Mode`), which no page can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Asked {
    /// A tab's (or window's) navigation: it gets the cloud's page, never the DMS's.
    Tab,
    /// A frame's navigation, or another a browser makes with the site's cookies: the DMS's
    /// page, for the account the viewer was opened for only.
    Frame,
    /// A request of the page's own (a fetch, its script, a style, an image).
    Page,
    /// A request with no fetch metadata: a tool's, or a browser too old to send it. It is
    /// served as an attachment, which no browser shows as a page: whatever the DMS answered
    /// cannot become the document of a tab that did not say what it asked for.
    Unlabelled,
}

impl Asked {
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        // Every value is read: a browser sends each once, and of a request that names more
        // than one, the most guarded reading is taken.
        let values = |name: &str| -> Vec<String> {
            headers
                .get_all(name)
                .iter()
                .flat_map(|v| {
                    String::from_utf8_lossy(v.as_bytes())
                        .split(',')
                        .map(|one| one.trim().to_ascii_lowercase())
                        .filter(|one| !one.is_empty())
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let navigates = values("sec-fetch-mode").iter().any(|m| m == "navigate");
        let dests = values("sec-fetch-dest");
        if dests.iter().any(|d| d == "document") || (dests.is_empty() && navigates) {
            Asked::Tab
        } else if dests.iter().any(|d| d == "iframe" || d == "frame")
            || (navigates && !dests.is_empty())
        {
            Asked::Frame
        } else if dests.is_empty() {
            Asked::Unlabelled
        } else {
            Asked::Page
        }
    }

    /// Whether the browser sends the site's cookies with it, so the sign-in must be there.
    pub(crate) fn navigates(self) -> bool {
        matches!(self, Asked::Tab | Asked::Frame)
    }
}

/// Who the content of a viewer is from, as the cloud verified it.
pub(crate) struct Sender<'a> {
    pub organization: &'a str,
    pub dms_id: &'a str,
}

/// The cloud's page for a viewer's URL `path_and_query`, under `viewer_base` (the viewer's
/// absolute URL, which alone the frame may load).
pub(crate) fn page(sender: &Sender<'_>, path_and_query: &str, viewer_base: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>Shared dashboard - dataminer.services</title>\
         <style>html,body{{height:100%;margin:0}}\
         body{{display:flex;flex-direction:column;font-family:sans-serif}}\
         #shared-by{{background:#0b3d5c;color:#fff;padding:.5em 1em}}\
         #dms-page{{flex:1;border:0;width:100%}}</style></head>\
         <body><header id=\"shared-by\">Shared with you by the organisation \
         &quot;{organization}&quot;, from its DataMiner System {dms}. What shows below is \
         that system's page, not dataminer.services': never type your dataminer.services \
         password into it.</header>\
         <iframe id=\"dms-page\" title=\"Shared dashboard of DataMiner System {dms}\" \
         sandbox=\"allow-scripts\" referrerpolicy=\"no-referrer\" src=\"{src}\"></iframe>\
         </body></html>\n",
        organization = escape(sender.organization),
        dms = escape(sender.dms_id),
        src = escape(path_and_query),
    );
    let mut response = (StatusCode::OK, Html(html)).into_response();
    let policy = format!(
        "default-src 'none'; style-src 'unsafe-inline'; frame-src {viewer_base}; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_asked_is_read_from_the_fetch_metadata_alone() {
        let with = |pairs: &[(&'static str, &'static str)]| {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers.append(*name, HeaderValue::from_static(value));
            }
            Asked::of(&headers)
        };
        let dest = |d| with(&[("sec-fetch-dest", d)]);
        assert_eq!(dest("document"), Asked::Tab);
        assert_eq!(dest(" Document "), Asked::Tab);
        assert_eq!(with(&[("sec-fetch-mode", "navigate")]), Asked::Tab);
        assert_eq!(dest("iframe"), Asked::Frame);
        assert_eq!(dest("frame"), Asked::Frame);
        assert_eq!(
            with(&[("sec-fetch-dest", "embed"), ("sec-fetch-mode", "navigate")]),
            Asked::Frame
        );
        for page in ["empty", "script", "style", "image"] {
            assert_eq!(dest(page), Asked::Page, "{page}");
        }
        assert_eq!(with(&[]), Asked::Unlabelled);
        assert_eq!(with(&[("sec-fetch-mode", "cors")]), Asked::Unlabelled);
        assert_eq!(
            with(&[("sec-fetch-dest", "empty"), ("sec-fetch-dest", "document")]),
            Asked::Tab
        );
        assert_eq!(
            with(&[("sec-fetch-dest", "empty"), ("sec-fetch-dest", "iframe")]),
            Asked::Frame
        );
        assert_eq!(with(&[("sec-fetch-dest", "empty, document")]), Asked::Tab);
        assert!(Asked::Tab.navigates() && Asked::Frame.navigates());
        assert!(!Asked::Page.navigates() && !Asked::Unlabelled.navigates());
    }

    #[tokio::test]
    async fn the_frame_is_sandboxed_and_what_the_dms_names_is_escaped() {
        let sender = Sender {
            organization: "Acme \"<b>\"",
            dms_id: "dms-1",
        };
        let response = page(
            &sender,
            "/s/t/v/w/?a=1&b=\"2\"",
            "https://sharing.dataminer.services:1/s/t/v/w/",
        );
        let csp = response
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(csp.contains("frame-src https://sharing.dataminer.services:1/s/t/v/w/;"));
        assert!(csp.contains("frame-ancestors 'none'"));
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        assert!(body.contains("sandbox=\"allow-scripts\" "));
        assert!(body.contains("src=\"/s/t/v/w/?a=1&amp;b=&quot;2&quot;\""));
        assert!(body.contains("&quot;Acme &quot;&lt;b&gt;&quot;&quot;"));
    }
}
