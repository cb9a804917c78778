//! Token verifiers, right and wrong. Each is the verifier a service puts in front of its API:
//! the test signs the service's tokens with its own HMAC (hmac + sha2, not the probe's code).

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::{conform, findings, runtime};

/// Not in any list: 40 characters no one guesses.
const STRONG: &[u8] = b"q7M#vL2p!xR9w$Tz4K@n8bY1c&F6j^D3hS0gE5uA";
/// In the bundled list, and in many a tutorial.
const WEAK: &[u8] = b"secret";
const HOUR: u64 = 3600;

/// How a verifier goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    None,
    /// `alg: none` (in any case) is taken as "no signature needed".
    AcceptsAlgNone,
    /// The claims are read and checked; the signature never is.
    SkipsSignature,
    /// The signature is checked; `exp` never is.
    IgnoresExp,
    /// `exp` is checked; `nbf` never is.
    IgnoresNbf,
    /// A `kid` header names the key file to verify with, read from the verifier's key folder.
    TrustsKidPath,
}

#[derive(Debug, Clone)]
struct Verifier {
    flaw: Flaw,
    secret: &'static [u8],
    keys: PathBuf,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn hs256(key: &[u8], input: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

/// A token of the service: HS256 over `claims` with `secret`.
fn token(secret: &[u8], claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(hs256(secret, input.as_bytes()));
    format!("{input}.{signature}")
}

fn segment(part: &str) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

impl Verifier {
    /// Whether the bearer token opens the API, as this verifier decides.
    fn accepts(&self, bearer: &str) -> bool {
        let parts: Vec<&str> = bearer.split('.').collect();
        let [header, payload, signature] = parts[..] else {
            return false;
        };
        let (Some(header), Some(claims)) = (segment(header), segment(payload)) else {
            return false;
        };
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let unchecked = match self.flaw {
            Flaw::SkipsSignature => true,
            Flaw::AcceptsAlgNone => alg.eq_ignore_ascii_case("none"),
            _ => false,
        };
        let signed = unchecked || {
            let key = match (self.flaw, header.get("kid").and_then(Value::as_str)) {
                (Flaw::TrustsKidPath, Some(kid)) => std::fs::read(self.keys.join(kid)).ok(),
                _ => Some(self.secret.to_vec()),
            };
            let given = URL_SAFE_NO_PAD.decode(signature).ok();
            alg == "HS256"
                && key.is_some_and(|key| {
                    given.as_deref()
                        == Some(&hs256(&key, format!("{}.{}", parts[0], parts[1]).as_bytes())[..])
                })
        };
        let now = now();
        let exp = claims.get("exp").and_then(Value::as_u64);
        let live = self.flaw == Flaw::IgnoresExp || exp.is_some_and(|exp| now < exp);
        let started = match claims.get("nbf") {
            _ if self.flaw == Flaw::IgnoresNbf => true,
            None => true,
            Some(nbf) => nbf.as_u64().is_some_and(|nbf| nbf <= now),
        };
        signed && live && started && claims.get("sub") == Some(&json!("dms-1"))
    }
}

impl Respond for Verifier {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let bearer = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match bearer {
            Some(token) if self.accepts(token) => {
                ResponseTemplate::new(200).set_body_json(json!({ "dms": "dms-1" }))
            }
            _ => ResponseTemplate::new(401),
        }
    }
}

/// Runs `conform probe jwt` against a verifier with `flaw` whose tokens are signed with
/// `secret`, giving it a valid, an expired and a not-yet-valid token of the service.
fn probe(flaw: Flaw, secret: &'static [u8]) -> (Option<i32>, Vec<String>) {
    let keys = std::env::temp_dir().join(format!("conform-jwt-keys-{}", std::process::id()));
    std::fs::create_dir_all(&keys).expect("a key folder");
    let runtime = runtime();
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/dms/self"))
            .respond_with(Verifier { flaw, secret, keys })
            .mount(&server)
            .await;
        server
    });
    let now = now();
    let valid = token(
        secret,
        &json!({ "sub": "dms-1", "iat": now, "exp": now + HOUR }),
    );
    let expired = token(
        secret,
        &json!({ "sub": "dms-1", "iat": now - 2 * HOUR, "exp": now - HOUR }),
    );
    let early = token(
        secret,
        &json!({ "sub": "dms-1", "iat": now, "nbf": now + HOUR, "exp": now + 2 * HOUR }),
    );
    let url = format!("{}/api/dms/self", server.uri());
    let output = conform(&[
        "probe",
        "jwt",
        &url,
        "--token",
        &valid,
        "--expired",
        &expired,
        "--not-yet-valid",
        &early,
    ]);
    drop(server);
    findings(&output)
}

#[test]
fn a_verifier_that_does_it_right_is_reported_clean() {
    assert_eq!(probe(Flaw::None, STRONG), (Some(0), Vec::new()));
}

#[test]
fn a_verifier_that_accepts_alg_none_is_reported() {
    let (code, named) = probe(Flaw::AcceptsAlgNone, STRONG);
    assert_eq!(code, Some(1));
    assert!(
        named.contains(&"accepted: alg none (lowercase), empty signature".to_owned()),
        "{named:?}"
    );
    assert!(
        named.contains(&"accepted: alg NONE (uppercase), empty signature".to_owned()),
        "{named:?}"
    );
}

#[test]
fn a_verifier_that_skips_the_signature_is_reported() {
    let (code, named) = probe(Flaw::SkipsSignature, STRONG);
    assert_eq!(code, Some(1));
    assert!(
        named.contains(&"accepted: signed with another random key".to_owned()),
        "{named:?}"
    );
    assert!(
        named.contains(&"accepted: exp pushed a year out, original signature kept".to_owned()),
        "{named:?}"
    );
}

#[test]
fn a_verifier_that_ignores_exp_is_reported_by_the_expired_token() {
    let (code, named) = probe(Flaw::IgnoresExp, STRONG);
    assert_eq!(
        (code, named),
        (
            Some(1),
            vec!["accepted: a real token of the service, past its exp".to_owned()]
        )
    );
}

#[test]
fn a_verifier_that_ignores_nbf_is_reported_by_the_not_yet_valid_token() {
    let (code, named) = probe(Flaw::IgnoresNbf, STRONG);
    assert_eq!(
        (code, named),
        (
            Some(1),
            vec!["accepted: a real token of the service, before its nbf".to_owned()]
        )
    );
}

#[test]
fn a_verifier_that_reads_its_key_from_the_kid_path_is_reported() {
    let (code, named) = probe(Flaw::TrustsKidPath, STRONG);
    assert_eq!(
        (code, named),
        (
            Some(1),
            vec!["accepted: kid ../../../dev/null, signed with an empty key".to_owned()]
        )
    );
}

#[test]
fn a_guessable_signing_secret_is_found_offline() {
    let (code, named) = probe(Flaw::None, WEAK);
    assert_eq!(
        (code, named),
        (
            Some(1),
            vec!["weak secret: the token's HMAC verifies with \"secret\"".to_owned()]
        )
    );
}

#[test]
fn a_secret_of_the_users_wordlist_is_found_too() {
    let list = std::env::temp_dir().join(format!("conform-wordlist-{}", std::process::id()));
    std::fs::write(&list, b"not-it\nq7M#vL2p!xR9w$Tz4K@n8bY1c&F6j^D3hS0gE5uA\n").expect("a list");
    let now = now();
    let valid = token(STRONG, &json!({ "sub": "dms-1", "exp": now + HOUR }));
    let runtime = runtime();
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(Verifier {
                flaw: Flaw::None,
                secret: STRONG,
                keys: std::env::temp_dir(),
            })
            .mount(&server)
            .await;
        server
    });
    let url = format!("{}/api/dms/self", server.uri());
    let output = conform(&[
        "probe",
        "jwt",
        &url,
        "--token",
        &valid,
        "--wordlist",
        list.to_str().expect("a path"),
    ]);
    let (code, named) = findings(&output);
    assert_eq!(code, Some(1));
    assert_eq!(named.len(), 1, "{named:?}");
    assert!(named[0].starts_with("weak secret:"), "{named:?}");
}

#[test]
fn a_token_given_as_expired_that_is_not_is_a_usage_error_and_nothing_is_sent() {
    let now = now();
    let live = token(STRONG, &json!({ "sub": "dms-1", "exp": now + HOUR }));
    let runtime = runtime();
    let server = runtime.block_on(MockServer::start());
    let url = format!("{}/api/dms/self", server.uri());
    let output = conform(&["probe", "jwt", &url, "--token", &live, "--expired", &live]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("exp in the past"), "{stderr}");
    let received = runtime
        .block_on(server.received_requests())
        .unwrap_or_default();
    assert!(received.is_empty(), "{} requests sent", received.len());
}
