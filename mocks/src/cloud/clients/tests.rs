use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

use super::*;
use crate::world::random_token;

/// A DMS's key pair as a test holds it: signs assertions, shows its JWK.
pub(crate) struct TestKey {
    der: Vec<u8>,
    ed25519: bool,
    pub jwk: String,
}

impl TestKey {
    pub fn p256() -> Self {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let point = pair.public_key_raw();
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        });
        Self {
            der: pair.serialize_der(),
            ed25519: false,
            jwk: jwk.to_string(),
        }
    }

    pub fn ed25519() -> Self {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let jwk = json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(pair.public_key_raw()),
        });
        Self {
            der: pair.serialize_der(),
            ed25519: true,
            jwk: jwk.to_string(),
        }
    }

    /// An assertion with these claims, signed.
    pub fn sign(&self, claims: &Value) -> String {
        let (alg, key) = if self.ed25519 {
            (Algorithm::EdDSA, EncodingKey::from_ed_der(&self.der))
        } else {
            (Algorithm::ES256, EncodingKey::from_ec_der(&self.der))
        };
        jsonwebtoken::encode(&Header::new(alg), claims, &key).unwrap()
    }

    /// A fresh assertion for `client` at `now`, living a minute.
    pub fn assertion(&self, client: &str, now: u64) -> String {
        self.sign(&json!({
            "iss": client, "sub": client, "aud": ISSUER,
            "jti": random_token(16), "iat": now, "exp": now + 60,
        }))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey::from_jwk(&self.jwk).unwrap()
    }
}

const NOW: u64 = 1_800_000_000;

/// One change to an assertion's claims.
type Change = fn(&mut Value);

fn check(clients: &Clients, key: &TestKey, assertion: &str, now: u64) -> Result<(), ClientError> {
    clients.authenticate(
        "dms-1",
        Some(ASSERTION_TYPE),
        Some(assertion),
        &key.public(),
        now,
    )
}

#[test]
fn an_assertion_of_the_registered_key_works_once_within_its_lifetime() {
    for make in [TestKey::p256, TestKey::ed25519] {
        let key = make();
        let clients = Clients::new(ClientPolicy { remember_jti: true });
        let assertion = key.assertion("dms-1", NOW);
        assert_eq!(check(&clients, &key, &assertion, NOW), Ok(()));
        assert_eq!(
            check(&clients, &key, &assertion, NOW + 1),
            Err(ClientError::Replayed)
        );
        let late = key.assertion("dms-1", NOW);
        assert_eq!(
            check(&clients, &key, &late, NOW + 200),
            Err(ClientError::Expired)
        );
        // Another key's assertion for the same DMS: the name proves nothing.
        let other = make();
        assert_eq!(
            check(&clients, &key, &other.assertion("dms-1", NOW), NOW),
            Err(ClientError::BadSignature)
        );
        assert_eq!(
            check(&clients, &key, &key.assertion("dms-2", NOW), NOW),
            Err(ClientError::WrongClaim("iss"))
        );
    }
}

#[test]
fn claims_audience_lifetime_and_header_are_held_to_the_letter() {
    let clients = Clients::new(ClientPolicy { remember_jti: true });
    let key = TestKey::p256();
    let claims = |change: fn(&mut Value)| {
        let mut c = json!({
            "iss": "dms-1", "sub": "dms-1", "aud": ISSUER,
            "jti": random_token(16), "iat": NOW, "exp": NOW + 60,
        });
        change(&mut c);
        key.sign(&c)
    };
    let cases: [(Change, ClientError); 5] = [
        (
            |c| c["aud"] = json!([ISSUER]),
            ClientError::WrongClaim("aud"),
        ),
        (
            |c| c["aud"] = json!("https://elsewhere.example/"),
            ClientError::WrongClaim("aud"),
        ),
        (
            |c| c["sub"] = json!("dms-2"),
            ClientError::WrongClaim("sub"),
        ),
        (|c| c["exp"] = json!(NOW + 3600), ClientError::TooLong),
        (
            |c| c["iat"] = json!("1800000000"),
            ClientError::WrongClaim("iat"),
        ),
    ];
    for (change, refused) in cases {
        assert_eq!(check(&clients, &key, &claims(change), NOW), Err(refused));
    }
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(b"{}")
    );
    assert!(check(&clients, &key, &unsigned, NOW).is_err());
    assert_eq!(
        clients.authenticate(
            "dms-1",
            None,
            Some(&key.assertion("dms-1", NOW)),
            &key.public(),
            NOW
        ),
        Err(ClientError::WrongType)
    );
}

#[test]
fn the_replay_fault_forgets_jti() {
    let clients = Clients::new(ClientPolicy::from_faults(
        &Fault::CloudAssertionReplayable.into(),
    ));
    let key = TestKey::p256();
    let assertion = key.assertion("dms-1", NOW);
    assert_eq!(check(&clients, &key, &assertion, NOW), Ok(()));
    assert_eq!(check(&clients, &key, &assertion, NOW), Ok(()));
}

#[test]
fn a_jwk_is_read_strictly_and_named_by_its_rfc7638_thumbprint() {
    // RFC 7638 §3.1's example is RSA; this checks the canonical member order for EC instead.
    let key = TestKey::p256();
    let shuffled: Value = serde_json::from_str(&key.jwk).unwrap();
    let mut with_extra = shuffled.clone();
    with_extra["use"] = json!("sig");
    assert_eq!(
        PublicKey::from_jwk(&with_extra.to_string())
            .unwrap()
            .thumbprint,
        key.public().thumbprint
    );
    let mut private = shuffled.clone();
    private["d"] = json!("AAAA");
    assert!(PublicKey::from_jwk(&private.to_string()).is_err());
    let mut short = shuffled;
    short["x"] = json!("AAAA");
    assert!(PublicKey::from_jwk(&short.to_string()).is_err());
    assert!(PublicKey::from_jwk(r#"{"kty":"RSA","n":"x","e":"AQAB"}"#).is_err());
}
