//! The requests the property test sends: a whitelisted call of a share's dashboard, changed by
//! a few mutations and put on the wire one of several ways.

use fixtures::DashboardCall;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::Value;

use super::Share;

/// One change to a whitelisted call.
#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    /// A parameter's value replaced by a raw JSON token.
    Value(Index, &'static str),
    /// A parameter's key respelled: case, an escape, a look-alike.
    Key(Index, &'static str),
    /// A parameter given twice, the copy with a raw JSON token.
    Duplicate(Index, &'static str),
    Remove(Index),
    Add(&'static str, &'static str),
    Method(&'static str),
    Path(&'static str),
    /// The connection of another share, or none that exists.
    Connection(Index),
}

/// How the request is put on the wire.
#[derive(Debug, Clone)]
pub(crate) struct Wire {
    pub form: bool,
    pub content_type: &'static str,
    pub header_case: usize,
    pub chunked: bool,
    pub both_framings: bool,
}

pub(crate) fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (
            any::<Index>(),
            select(
                &[
                    "{v}",
                    "\"{v}\"",
                    "{v}.0",
                    "{v}e0",
                    "\"0{v}\"",
                    "\" {v}\"",
                    "\"+{v}\"",
                    "-{v}",
                    "\"\\u0031{v}\"",
                    "\"{v}\\u0000\"",
                    "200",
                    "\"200\"",
                    "2001",
                    "[{v}]",
                    "true",
                    "null",
                    "{\"$ne\":0}",
                    "4294967396",
                    "\"１００\"",
                    "10",
                    "101",
                ][..]
            )
        )
            .prop_map(|(i, v)| Mutation::Value(i, v)),
        (
            any::<Index>(),
            select(
                &[
                    "{k:upper}",
                    "{k:lower}",
                    "{k:escaped}",
                    "{k}\\u0000",
                    " {k}"
                ][..]
            )
        )
            .prop_map(|(i, k)| Mutation::Key(i, k)),
        (
            any::<Index>(),
            select(
                &[
                    "{v}", "200", "\"200\"", "2001", "101", "10", "1002", "\"4001\""
                ][..]
            )
        )
            .prop_map(|(i, v)| Mutation::Duplicate(i, v)),
        any::<Index>().prop_map(Mutation::Remove),
        (
            select(
                &[
                    "parameterID",
                    "includeHidden",
                    "elementID",
                    "viewID",
                    "Connection"
                ][..]
            ),
            select(&["1001", "true", "\"x\"", "200"][..])
        )
            .prop_map(|(k, v)| Mutation::Add(k, v)),
        select(
            &[
                "getelement",
                "GETPARAMETER",
                "SetParameter",
                "GetElementsForView",
                "GetParameter",
                "GetActiveAlarmsForElement",
                "DeleteShare"
            ][..]
        )
        .prop_map(Mutation::Method),
        select(
            &[
                "/api/v1/json.asmx/{m}",
                "/API/v1/Json.asmx/%47{m:tail}",
                "/API/v1/Json.asmx/x/../{m}",
                "/API/v1/Json.asmx/{m}?elementID=200",
                "/API/v1/Json.asmx/{m}/",
                "/API/v1//Json.asmx/{m}",
                "/API/v1/Json.asmx/{m};x"
            ][..]
        )
        .prop_map(Mutation::Path),
        any::<Index>().prop_map(Mutation::Connection),
    ]
}

pub(crate) fn wire() -> impl Strategy<Value = Wire> {
    (
        any::<bool>(),
        select(
            &[
                "application/json",
                "application/json; charset=utf-8",
                "APPLICATION/JSON",
                "application/x-www-form-urlencoded",
                "text/plain",
                "application/jsonx",
                "application/json; charset=utf-16",
            ][..],
        ),
        0usize..3,
        any::<bool>(),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(form, content_type, header_case, chunked, both_framings)| Wire {
                form,
                content_type,
                header_case,
                chunked,
                both_framings,
            },
        )
}

/// The request a mutated call makes, as bytes: under the share's viewer on the sharing host
/// (`host`), with the cookies the recipient's browser sends to its target (`cookies`).
pub(crate) fn build(
    share: &Share,
    original: &DashboardCall,
    mutations: &[Mutation],
    wire: &Wire,
    shares: &[Share],
    host: &str,
    cookies: impl Fn(&str) -> String,
) -> Vec<u8> {
    let mut method = original.method.clone();
    let mut path = "/API/v1/Json.asmx/{m}".to_owned();
    let mut fields: Vec<(String, String)> = vec![(
        "connection".into(),
        Value::String(share.connection.clone()).to_string(),
    )];
    fields.extend(
        original
            .parameters
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string())),
    );
    for m in mutations {
        let pick = |i: &Index, fields: &[(String, String)]| i.index(fields.len().max(1));
        match m {
            Mutation::Value(i, raw) => {
                let at = pick(i, &fields);
                if let Some(f) = fields.get_mut(at) {
                    f.1 = raw.replace("{v}", f.1.trim_matches('"'));
                }
            }
            Mutation::Key(i, spelling) => {
                let at = pick(i, &fields);
                if let Some(f) = fields.get_mut(at) {
                    let escaped: String =
                        f.0.chars()
                            .map(|c| format!("\\u{:04x}", u32::from(c)))
                            .collect();
                    f.0 = spelling
                        .replace("{k:upper}", &f.0.to_uppercase())
                        .replace("{k:lower}", &f.0.to_lowercase())
                        .replace("{k:escaped}", &escaped)
                        .replace("{k}", &f.0);
                }
            }
            Mutation::Duplicate(i, raw) => {
                let at = pick(i, &fields);
                if let Some(f) = fields.get(at).cloned() {
                    fields.push((f.0, raw.replace("{v}", f.1.trim_matches('"'))));
                }
            }
            Mutation::Remove(i) => {
                let at = pick(i, &fields);
                if at < fields.len() {
                    fields.remove(at);
                }
            }
            Mutation::Add(k, v) => fields.push(((*k).to_owned(), (*v).to_owned())),
            Mutation::Method(m) => method = (*m).to_owned(),
            Mutation::Path(p) => path = (*p).to_owned(),
            Mutation::Connection(i) => {
                let other = i.get(shares);
                let connection = if other.connection == share.connection {
                    "made-up"
                } else {
                    &other.connection
                };
                if let Some(f) = fields.iter_mut().find(|f| f.0 == "connection") {
                    f.1 = Value::String(connection.to_owned()).to_string();
                }
            }
        }
    }
    let tail: String = method.chars().skip(1).collect();
    let path = format!(
        "{}{}",
        share.viewer.base.trim_end_matches('/'),
        path.replace("{m:tail}", &tail).replace("{m}", &method)
    );
    let body = if wire.form {
        fields
            .iter()
            .map(|(k, v)| {
                let text = serde_json::from_str::<Value>(v)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| v.clone());
                let key = serde_json::from_str::<String>(&format!("\"{k}\""))
                    .unwrap_or_else(|_| k.clone());
                form_urlencoded::Serializer::new(String::new())
                    .append_pair(&key, &text)
                    .finish()
            })
            .collect::<Vec<_>>()
            .join("&")
    } else {
        let members: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", members.join(","))
    };
    let content_type = ["Content-Type", "content-type", "CONTENT-TYPE"][wire.header_case];
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {}\r\n{content_type}: {}\r\nConnection: close\r\n",
        cookies(&path),
        wire.content_type
    );
    let mut bytes = Vec::new();
    if wire.chunked || wire.both_framings {
        head.push_str("Transfer-Encoding: chunked\r\n");
    }
    if !wire.chunked || wire.both_framings {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    bytes.extend_from_slice(head.as_bytes());
    if wire.chunked {
        bytes.extend_from_slice(format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len()).as_bytes());
    } else {
        bytes.extend_from_slice(body.as_bytes());
    }
    bytes
}
