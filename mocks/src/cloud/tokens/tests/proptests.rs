//! Tampering, drawn at random but reproducibly (ChaCha, fixed seed, whatever
//! `PROPTEST_RNG_SEED` says): a valid token with one character or one claim value changed is
//! refused, unless the change left it byte-identical.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, RngSeed};

use super::*;

/// The base64url alphabet, the separators and padding a JWS must not carry loose, and a few
/// characters outside ASCII.
const REPLACEMENTS: &[char] = &[
    'A', 'B', 'M', 'Z', 'a', 'b', 'm', 'z', '0', '1', '5', '9', '-', '_', 'C', 'D', 'E', 'F', 'G',
    'H', 'I', 'J', 'K', 'L', 'N', 'O', 'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'c', 'd',
    'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x',
    'y', '2', '3', '4', '6', '7', '8', '.', '=', '+', '/', ' ', 'é', 'Ａ', '€', '\u{0}', '\u{ff}',
];

fn config() -> Config {
    Config {
        cases: 256,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0xC0F0_2026),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/cloud-token-tampering.txt",
        ))),
        ..Config::default()
    }
}

fn claim_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u64..4_000_000_000).prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "[a-z0-9:/.-]{0,24}".prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        Just(json!([])),
        Just(json!({})),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_token_with_any_one_character_replaced_is_refused(
        position in any::<Index>(),
        replacement in select(REPLACEMENTS),
    ) {
        let f = fixture(FaultSet::none());
        let valid = f.tokens.issue("dms-1", "org").unwrap().access_token;
        let at = position.index(valid.len());
        let mut altered = valid.clone();
        altered.replace_range(at..=at, replacement.encode_utf8(&mut [0; 4]));
        let accepted = f.tokens.validate(&altered).is_ok();
        prop_assert_eq!(accepted, altered == valid, "{} at {}", replacement, at);
    }

    #[test]
    fn a_token_with_any_one_claim_value_replaced_is_refused(
        which in any::<Index>(),
        value in claim_value(),
    ) {
        let f = fixture(FaultSet::none());
        let valid = f.tokens.issue("dms-1", "org").unwrap().access_token;
        let mut claims = claims_of(&valid);
        let names: Vec<String> = claims.as_object().unwrap().keys().cloned().collect();
        let name = &names[which.index(names.len())];
        claims[name.as_str()] = value;
        let mut segments = valid.split('.');
        let (header, _, signature) = (
            segments.next().unwrap(),
            segments.next().unwrap(),
            segments.next().unwrap(),
        );
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let altered = format!("{header}.{payload}.{signature}");
        let accepted = f.tokens.validate(&altered).is_ok();
        prop_assert_eq!(accepted, altered == valid, "claim {}", name);
    }
}
