//! How the DMA reads a request, the way DataMiner Web Services v1 on IIS and ASP.NET (ASMX)
//! does. It is deliberately not the WAF's reader: the two are separate implementations, as in a
//! real deployment, so any disagreement between them is something the harness can observe.
//!
//! - The path is decoded as IIS decodes it (percent-escapes, dot segments) and its
//!   `/API/v1/Json.asmx/` part is compared case-insensitively; the query is ignored. The method
//!   name itself is exact, as ASMX dispatches it.
//! - `application/json` bodies are one JSON object; of a duplicated key the last value wins, as
//!   the .NET serializer's dictionary keeps it.
//! - `application/x-www-form-urlencoded` bodies are ASP.NET's `Request.Form`: names compared
//!   case-insensitively, a repeated name's values joined with commas.
//! - IDs are numbers or numeric strings, read as `Int32.Parse` reads them (surrounding
//!   whitespace, a `+`, leading zeros) and put in the body as plain numbers, so the methods
//!   see one form.

use serde_json::{Map, Value};

use crate::dms::canonical::{API_PREFIX, ID_PARAMETERS};

/// The largest body the DMA reads.
const BODY_LIMIT: usize = 1024 * 1024;

/// The parameter names the DMA's methods read: a form field matching one of them, in any
/// case, is that parameter.
const KNOWN: &[&str] = &[
    "connection",
    "login",
    "password",
    "host",
    "clientAppName",
    "clientAppVersion",
    "clientComputerName",
    "dmaID",
    "elementID",
    "parameterID",
    "viewID",
    "alarmID",
    "value",
    "points",
    "dashboardID",
    "shareID",
];

/// A request as the DMA takes it in.
#[derive(Debug)]
pub(crate) struct Received {
    pub head: http::request::Parts,
    /// The path with its query, as sent.
    pub path: String,
    /// The body; `None` when it is longer than the DMA reads or broke off.
    pub body: Option<bytes::Bytes>,
}

pub(crate) async fn receive(request: axum::extract::Request) -> Received {
    let (head, body) = request.into_parts();
    let path = head
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(body, BODY_LIMIT).await.ok();
    Received { head, path, body }
}

/// Why the DMA cannot read a request as a call; the message is what it answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Unreadable {
    #[error("Request format is invalid: only POST carries a call, not {0}.")]
    Verb(String),
    #[error("Request format is unrecognized for URL {0:?}.")]
    Path(String),
    #[error("Request format is invalid: {0:?}.")]
    ContentType(String),
    #[error("Invalid JSON primitive: {0}")]
    Json(String),
    #[error("The request body is too large or broke off.")]
    Body,
}

/// The method and the parameters of a request, as the DMA reads them.
pub(crate) fn read(
    head: &http::request::Parts,
    path: &str,
    body: Option<&[u8]>,
) -> Result<(String, Map<String, Value>), Unreadable> {
    if head.method != http::Method::POST {
        return Err(Unreadable::Verb(head.method.to_string()));
    }
    let method = method_of(path).ok_or_else(|| Unreadable::Path(path.to_owned()))?;
    let body = body.ok_or(Unreadable::Body)?;
    let content_type = head
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let mut parameters = if media.eq_ignore_ascii_case("application/json") {
        serde_json::from_slice::<Map<String, Value>>(body)
            .map_err(|e| Unreadable::Json(e.to_string()))?
    } else if media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        form(body)
    } else {
        return Err(Unreadable::ContentType(content_type.to_owned()));
    };
    for name in ID_PARAMETERS {
        if let Some(value) = parameters.get_mut(*name)
            && let Some(id) = dotnet_int(value)
        {
            *value = Value::from(id);
        }
    }
    Ok((method, parameters))
}

/// The method a path names, once IIS has decoded it.
fn method_of(path_and_query: &str) -> Option<String> {
    let path = path_and_query.split('?').next().unwrap_or_default();
    let decoded = percent_decode(path)?;
    let normal = remove_dot_segments(&decoded);
    let prefix = normal.get(..API_PREFIX.len())?;
    if !prefix.eq_ignore_ascii_case(API_PREFIX) {
        return None;
    }
    let method = &normal[API_PREFIX.len()..];
    (!method.is_empty() && method.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| method.to_owned())
}

/// IIS's decoding of a path: every well-formed `%XX`, the rest as it is; UTF-8 or nothing.
fn percent_decode(path: &str) -> Option<String> {
    let input = path.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%'
            && let (Some(h), Some(l)) = (
                input.get(i + 1).copied().and_then(hex),
                input.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or_default());
            i += 3;
            continue;
        }
        out.push(input[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// RFC 3986 §5.2.4, as IIS normalises a URL before routing it.
fn remove_dot_segments(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "." => {}
            ".." => {
                if kept.len() > 1 {
                    kept.pop();
                }
            }
            other => kept.push(other),
        }
    }
    kept.join("/")
}

/// ASP.NET's `Request.Form`: case-insensitive names, repeated values joined with commas.
fn form(body: &[u8]) -> Map<String, Value> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for (name, value) in form_urlencoded::parse(body) {
        let name = KNOWN
            .iter()
            .find(|k| k.eq_ignore_ascii_case(&name))
            .map_or_else(|| name.into_owned(), |k| (*k).to_owned());
        match fields
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some((_, joined)) => {
                joined.push(',');
                joined.push_str(&value);
            }
            None => fields.push((name, value.into_owned())),
        }
    }
    fields
        .into_iter()
        .map(|(n, v)| (n, Value::String(v)))
        .collect()
}

/// An ID as .NET converts it to `Int32` (only the non-negative ones name anything here).
fn dotnet_int(value: &Value) -> Option<u32> {
    match value {
        Value::Number(n) => match n.as_u64() {
            Some(n) => u32::try_from(n).ok(),
            None => n
                .as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX))
                .map(|f| f as u32),
        },
        Value::String(s) => {
            let s = s.trim();
            let digits = s.strip_prefix('+').unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse().ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(content_type: &str) -> http::request::Parts {
        let (head, ()) = http::Request::post("/")
            .header(http::header::CONTENT_TYPE, content_type)
            .body(())
            .expect("a request")
            .into_parts();
        head
    }

    fn read_as(path: &str, content_type: &str, body: &str) -> Option<(String, Value)> {
        read(&head(content_type), path, Some(body.as_bytes()))
            .ok()
            .map(|(m, p)| (m, Value::Object(p)))
    }

    #[test]
    fn the_path_is_read_as_iis_reads_it_and_the_method_exactly() {
        let json = "application/json";
        for path in [
            "/API/v1/Json.asmx/GetElement",
            "/api/V1/json.ASMX/GetElement",
            "/API/v1/Json.asmx/%47etElement",
            "/API/v1/x/../Json.asmx/GetElement?elementID=9",
        ] {
            let read = read_as(path, json, "{}").map(|(m, _)| m);
            assert_eq!(read.as_deref(), Some("GetElement"), "{path}");
        }
        assert_eq!(
            read_as("/API/v1/Json.asmx/getelement", json, "{}").map(|(m, _)| m),
            Some("getelement".to_owned())
        );
        assert!(read_as("/API/v1/Json.asmx/Get;Element", json, "{}").is_none());
    }

    #[test]
    fn json_keeps_the_last_duplicate_and_forms_join_them() {
        let (_, json) = read_as(
            "/API/v1/Json.asmx/GetElement",
            "application/json",
            r#"{"elementID":1,"elementID":" +0200 "}"#,
        )
        .expect("read");
        assert_eq!(json["elementID"], 200);
        let (_, form) = read_as(
            "/API/v1/Json.asmx/GetElement",
            "application/x-www-form-urlencoded; charset=utf-8",
            "ELEMENTID=100&connection=a+b&Connection=c",
        )
        .expect("read");
        assert_eq!(form["elementID"], 100);
        assert_eq!(form["connection"], "a b,c");
        assert!(read_as("/API/v1/Json.asmx/GetElement", "text/plain", "{}").is_none());
    }
}
