//! WAFs in front of the DMA's API, right and wrong, all holding one whitelisted call:
//! `GetParameter` of element 100, parameter 1001 on DMA 2000, for one session.
//!
//! wiremock hands its responders the request target parsed as a URL, dot segments and
//! backslashes already resolved, so a WAF made of wiremock alone could not tell
//! `/API/v1/../v1/Json.asmx/GetParameter` from the whitelisted path. Each WAF here is two
//! parts, as a real one reads the raw request line first: a loopback front that refuses any
//! request line whose target is not the whitelisted path byte for byte, then wiremock for
//! everything else.

use serde::de::{Deserializer as _, MapAccess, Visitor};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::{conform, findings, runtime};

const SESSION: &str = "7f3c9a2e-share-session";
const PATH: &str = "/API/v1/Json.asmx/GetParameter";

/// How a WAF goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    None,
    /// The whitelist is matched on the method alone: any parameters pass.
    MethodOnly,
    /// Of a key sent twice, the first is read (the DMA's JSON reader takes the last).
    FirstOfDuplicateKeys,
}

#[derive(Debug, Clone, Copy)]
struct Waf(Flaw);

/// The body's members in order, duplicates kept; `None` when it is not one JSON object.
fn members(body: &[u8]) -> Option<Vec<(String, Value)>> {
    struct Members;
    impl<'de> Visitor<'de> for Members {
        type Value = Vec<(String, Value)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut all = Vec::new();
            while let Some(pair) = map.next_entry::<String, Value>()? {
                all.push(pair);
            }
            Ok(all)
        }
    }
    let mut reader = serde_json::Deserializer::from_slice(body);
    let all = (&mut reader).deserialize_map(Members).ok()?;
    reader.end().ok()?;
    Some(all)
}

/// An ID as the real API takes it: a JSON integer, or a string of ASCII digits written the
/// same way; nothing else (no sign, no padding, no leading zero, no other digits).
fn id(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if s.bytes().all(|b| b.is_ascii_digit()) => {
            let n: u64 = s.parse().ok()?;
            (n.to_string() == *s).then_some(n)
        }
        _ => None,
    }
}

impl Waf {
    fn allows(&self, request: &Request) -> bool {
        let head_ok = request.method.as_str() == "POST"
            && request.url.path() == PATH
            && request.url.query().is_none();
        if self.0 == Flaw::MethodOnly {
            return head_ok;
        }
        let content_type = request
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let known_headers = request.headers.keys().all(|name| {
            matches!(
                name.as_str(),
                "host" | "content-type" | "content-length" | "connection"
            )
        });
        if !head_ok
            || !known_headers
            || !matches!(
                content_type,
                "application/json" | "application/json; charset=utf-8"
            )
            || request.body.len() > 1024
        {
            return false;
        }
        let Some(mut members) = members(&request.body) else {
            return false;
        };
        let mut names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        let unique = names.windows(2).all(|w| w[0] != w[1]);
        if self.0 == Flaw::FirstOfDuplicateKeys {
            // A lax reader: the first of each name counts, the rest are never looked at.
            let mut seen = std::collections::BTreeSet::new();
            members.retain(|(name, _)| seen.insert(name.clone()));
        } else if !unique {
            return false;
        }
        let value = |name: &str| members.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        members.len() == 4
            && value("connection") == Some(&json!(SESSION))
            && value("dmaID").and_then(id) == Some(2000)
            && value("elementID").and_then(id) == Some(100)
            && value("parameterID").and_then(id) == Some(1001)
    }
}

impl Respond for Waf {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if self.allows(request) {
            ResponseTemplate::new(200).set_body_json(json!({ "d": { "Value": "42" } }))
        } else {
            ResponseTemplate::new(403).set_body_json(json!({ "Message": "blocked" }))
        }
    }
}

/// The raw request line's check: a target other than the whitelisted path, byte for byte,
/// is answered 403 before wiremock sees it; anything else goes through to `behind`.
async fn front(behind: std::net::SocketAddr) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n") && head.len() < 8192 {
                    match client.read(&mut byte).await {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let line = String::from_utf8_lossy(&head);
                let target = line.split(' ').nth(1).unwrap_or_default();
                if target != PATH {
                    let refusal =
                        b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
                    let _ = client.write_all(refusal).await;
                    return;
                }
                let Ok(mut server) = TcpStream::connect(behind).await else {
                    return;
                };
                if server.write_all(&head).await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    addr
}

fn probe(flaw: Flaw) -> (Option<i32>, Vec<String>) {
    let runtime = runtime();
    let (server, front) = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(Waf(flaw))
            .mount(&server)
            .await;
        let front = front(*server.address()).await;
        (server, front)
    });
    let url = format!("http://{front}/");
    let call = std::env::temp_dir().join(format!(
        "conform-waf-call-{}-{flaw:?}.json",
        std::process::id()
    ));
    std::fs::write(
        &call,
        json!({
            "method": "GetParameter",
            "body": { "connection": SESSION, "dmaID": 2000, "elementID": 100, "parameterID": 1001 },
            "blocked": [403]
        })
        .to_string(),
    )
    .expect("the call file");
    let output = conform(&[
        "probe",
        "waf",
        &url,
        "--call",
        call.to_str().expect("a path"),
    ]);
    drop(server);
    findings(&output)
}

#[test]
fn a_waf_that_does_it_right_is_reported_clean() {
    assert_eq!(probe(Flaw::None), (Some(0), Vec::new()));
}

#[test]
fn a_waf_that_matches_the_method_only_is_reported() {
    let (code, named) = probe(Flaw::MethodOnly);
    assert_eq!(code, Some(1));
    assert!(
        named.iter().any(|n| n.starts_with("another-element-id ")),
        "{named:?}"
    );
}

#[test]
fn a_waf_that_reads_the_first_of_duplicate_keys_is_reported() {
    let (code, named) = probe(Flaw::FirstOfDuplicateKeys);
    assert_eq!(code, Some(1));
    // Only the duplicates: everything else this WAF reads as the right one does.
    assert!(
        named
            .iter()
            .any(|n| n.starts_with("duplicated-id-other-value-last ")),
        "{named:?}"
    );
    // Only calls with a key sent twice (one of them adds a second parameterID): everything
    // else this WAF reads as the right one does.
    assert!(
        named
            .iter()
            .all(|n| n.ends_with("(parameters) let through off the whitelist")),
        "{named:?}"
    );
}
