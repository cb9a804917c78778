//! The WAF's own reading of a request, independent of the DMA's: it takes in only what it can
//! read one way, and refuses the rest before anything is forwarded. What it refuses (the
//! [`Unreadable`] reasons) a careful WAF blocks; reading more loosely than the DMA, or less
//! strictly, would let a request mean one call to the WAF and another to the DMA.
//!
//! - Framing: one `Content-Length` or `Transfer-Encoding: chunked`, never both, nothing else.
//! - Verb `POST`; the path `/API/v1/Json.asmx/<Method>` exactly as the Cloud Gateway sends it
//!   (IIS would take the prefix in any case, but nothing legitimate spells it otherwise), the
//!   method ASCII letters, compared as written; no query, no escape, no dot segment.
//! - One `Content-Type`: `application/json` or `application/x-www-form-urlencoded`, at most a
//!   `charset=utf-8` parameter; a body of at most [`INSPECTION_LIMIT`] bytes of UTF-8.
//! - The body's names once each ([`body`](super::body) reads it).

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use serde_json::{Map, Value};

use super::body::{self, Duplicates};

/// The largest body the WAF inspects; a larger one is refused whole, never forwarded half-read.
pub(crate) const INSPECTION_LIMIT: usize = 64 * 1024;

/// The start of every call's path.
const PREFIX: &str = "/API/v1/Json.asmx/";

/// A request as the WAF takes it in.
#[derive(Debug)]
pub(crate) struct Received {
    pub head: http::request::Parts,
    /// The path with its query, as sent.
    pub path: String,
    /// The body, read to one byte past [`INSPECTION_LIMIT`]; `None` when longer or broken off.
    pub body: Option<bytes::Bytes>,
}

pub(crate) async fn receive(request: axum::extract::Request) -> Received {
    let (head, body) = request.into_parts();
    let path = head
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(body, INSPECTION_LIMIT + 1).await.ok();
    Received { head, path, body }
}

/// The body's two encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Json,
    Form,
}

/// A call as the WAF read it: the method as written and every field as sent (form values as
/// strings), `connection` included.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Inspected {
    pub method: String,
    pub fields: Map<String, Value>,
}

/// Why the WAF cannot read a request as one call. The message is the reason it logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("conflicting or unknown framing: {0}")]
    Framing(String),
    #[error("only POST carries a call, not {0}")]
    Verb(String),
    #[error("not a plain DataMiner Web Services call path: {0:?}")]
    Path(String),
    #[error("the content type must be JSON or a form in UTF-8, once, not {0:?}")]
    ContentType(String),
    #[error("the body is larger than the {INSPECTION_LIMIT}-byte inspection limit")]
    TooLarge,
    #[error("the body is not one unambiguous set of fields: {0}")]
    Body(String),
}

/// Reads `head`, `path` and `body` as one call, or says why it cannot.
pub(crate) fn read(
    head: &http::request::Parts,
    path: &str,
    body: &[u8],
    duplicates: Duplicates,
) -> Result<Inspected, Unreadable> {
    check_framing(&head.headers)?;
    if head.method != http::Method::POST {
        return Err(Unreadable::Verb(head.method.to_string()));
    }
    let method = read_method(path)?;
    let encoding = read_content_type(&head.headers)?;
    if body.len() > INSPECTION_LIMIT {
        return Err(Unreadable::TooLarge);
    }
    let fields = match encoding {
        Encoding::Json => body::json(body, duplicates),
        Encoding::Form => body::form(body),
    }
    .map_err(Unreadable::Body)?;
    Ok(Inspected {
        method: method.to_owned(),
        fields,
    })
}

fn check_framing(headers: &http::HeaderMap) -> Result<(), Unreadable> {
    let lengths = headers.get_all(CONTENT_LENGTH).iter().count();
    let codings: Vec<&[u8]> = headers
        .get_all(TRANSFER_ENCODING)
        .iter()
        .map(http::HeaderValue::as_bytes)
        .collect();
    match (lengths, codings.as_slice()) {
        (0 | 1, []) => Ok(()),
        (0, [chunked]) if chunked.eq_ignore_ascii_case(b"chunked") => Ok(()),
        (lengths, codings) => Err(Unreadable::Framing(format!(
            "{lengths} Content-Length and {} Transfer-Encoding headers",
            codings.len()
        ))),
    }
}

/// The method named by a plain call path.
pub(crate) fn read_method(path: &str) -> Result<&str, Unreadable> {
    let refused = || Unreadable::Path(path.to_owned());
    let method = path.strip_prefix(PREFIX).ok_or_else(refused)?;
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(refused());
    }
    Ok(method)
}

fn read_content_type(headers: &http::HeaderMap) -> Result<Encoding, Unreadable> {
    let mut all = headers.get_all(CONTENT_TYPE).iter();
    let (Some(value), None) = (all.next(), all.next()) else {
        return Err(Unreadable::ContentType(format!(
            "{} Content-Type headers",
            headers.get_all(CONTENT_TYPE).iter().count()
        )));
    };
    let raw = value.to_str().unwrap_or_default();
    let refused = || Unreadable::ContentType(raw.to_owned());
    let mut parts = raw.split(';').map(str::trim);
    let media = parts.next().unwrap_or_default();
    let params: Vec<&str> = parts.collect();
    let charset_ok = match params.as_slice() {
        [] => true,
        [one] => one.eq_ignore_ascii_case("charset=utf-8"),
        _ => false,
    };
    if !charset_ok {
        return Err(refused());
    }
    if media.eq_ignore_ascii_case("application/json") {
        Ok(Encoding::Json)
    } else if media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Ok(Encoding::Form)
    } else {
        Err(refused())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(verb: &str, headers: &[(&str, &str)]) -> http::request::Parts {
        let mut builder = http::Request::builder().method(verb).uri("/");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).expect("a request").into_parts().0
    }

    #[test]
    fn only_plain_paths_are_calls() {
        assert_eq!(
            read_method("/API/v1/Json.asmx/GetElement"),
            Ok("GetElement")
        );
        for path in [
            "/api/V1/JSON.asmx/GetElement",
            "/API/v1/Json.asmx/GetElement?x=1",
            "/API/v1/Json.asmx/x/../GetElement",
            "/API/v1/Json.asmx/GetElement;a",
            "/API/v1/Json.asmx/%47etElement",
            "/API/v1/Json.asmx/GetElement/",
            "/API/v1//Json.asmx/GetElement",
        ] {
            assert!(read_method(path).is_err(), "{path}");
        }
    }

    #[test]
    fn framing_and_content_type_must_be_unambiguous() {
        let json = ("content-type", "application/json");
        let read_with = |headers: &[(&str, &str)]| {
            read(
                &head("POST", headers),
                "/API/v1/Json.asmx/GetElement",
                b"{}",
                Duplicates::Refused,
            )
        };
        assert!(read_with(&[json, ("content-length", "2")]).is_ok());
        assert!(read_with(&[json, ("transfer-encoding", "chunked")]).is_ok());
        assert!(
            read_with(&[
                json,
                ("content-length", "2"),
                ("transfer-encoding", "chunked")
            ])
            .is_err()
        );
        assert!(read_with(&[json, ("transfer-encoding", "gzip, chunked")]).is_err());
        assert!(read_with(&[json, ("content-length", "2"), ("content-length", "2")]).is_err());
        assert!(read_with(&[json, ("content-type", "application/json")]).is_err());
        assert!(read_with(&[("content-type", "text/plain")]).is_err());
        assert!(read_with(&[("content-type", "application/json; charset=latin1")]).is_err());
        assert!(read_with(&[]).is_err());
    }
}
