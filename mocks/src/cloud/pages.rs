//! The few HTML pages a person opens on `connection.dataminer.services`: self-contained (no
//! script, no external asset), never cached, never framed, every value escaped.

use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

/// A complete page with `title` and `body` (already escaped HTML), answered with `status`.
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title} - dataminer.services</title>\
         <style>body{{font-family:sans-serif;max-width:40em;margin:3em auto;padding:0 1em}}\
         dt{{font-weight:bold}}dd{{margin:0 0 .6em}}input{{font-size:1.1em}}\
         .warn{{background:#fff3cd;padding:.6em}}</style></head>\
         <body><h1>{title}</h1>\n{body}\n</body></html>\n",
        title = escape(title),
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// `text` safe inside HTML text and double- or single-quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// `value` as a URL query value: unreserved characters as they are, the rest percent-encoded.
pub(crate) fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The sign-in form, coming back to `next` (a path on this host) once signed in.
pub(crate) fn sign_in(status: StatusCode, note: &str, next: &str) -> Response {
    sign_in_with(status, note, next, "")
}

/// The sign-in form followed by `extra` (already escaped HTML).
pub(crate) fn sign_in_with(status: StatusCode, note: &str, next: &str, extra: &str) -> Response {
    let body = format!(
        "<p>{note}</p>\
         <form method=\"post\" action=\"/account/login\">\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <p><label>Email <input name=\"email\" type=\"email\" autocomplete=\"username\"></label></p>\
         <p><label>Password <input name=\"password\" type=\"password\" \
         autocomplete=\"current-password\"></label></p>\
         <p><button type=\"submit\">Sign in</button></p></form>{extra}",
        note = escape(note),
        next = escape(next),
    );
    page(status, "Sign in", &body)
}

/// A UTC date and time for people: `2027-01-15 08:00:00 UTC`.
pub(crate) fn utc(unix: u64) -> String {
    let at = i64::try_from(unix)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok());
    match at {
        Some(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        None => format!("{unix} (Unix time)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_value_is_shown_not_run() {
        assert_eq!(
            escape("DMS <img src=x onerror='a()'> & \"b\""),
            "DMS &lt;img src=x onerror=&#39;a()&#39;&gt; &amp; &quot;b&quot;"
        );
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
    }
}
