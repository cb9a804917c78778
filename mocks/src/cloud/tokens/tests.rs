use std::time::{Duration, UNIX_EPOCH};

use probes::jwt::{Signing, attacks, decode_unverified, forge};
use serde_json::{Value, json};

use super::super::refresh::RefreshError;
use super::policy::TOKEN_LIFETIME;
use super::*;
use crate::world::{Fault, FaultSet};

mod proptests;

const START: u64 = 1_800_000_000;

pub(super) struct Fixture {
    pub tokens: TokenService,
    pub clock: Clock,
    pub vault: Arc<KeyVault>,
    identity: Credential,
    pub log: CloudLog,
}

pub(super) fn fixture(faults: impl Into<FaultSet>) -> Fixture {
    let clock = Clock::starting_at(UNIX_EPOCH + Duration::from_secs(START));
    let (vault, workloads) = KeyVault::provision(
        &super::super::vault::VaultPolicy::from_faults(&FaultSet::none()),
        START,
    );
    let identity = workloads.token_service;
    let vault = Arc::new(vault);
    let log = CloudLog::new(clock.clone());
    let tokens = TokenService::new(
        clock.clone(),
        TokenPolicy::from_faults(&faults.into()),
        vault.clone(),
        identity.clone(),
        log.clone(),
    );
    Fixture {
        tokens,
        clock,
        vault,
        identity,
        log,
    }
}

impl Fixture {
    pub fn secret(&self) -> Vec<u8> {
        self.vault.read(&self.identity, SIGNING_KEY).unwrap()
    }
}

fn claims_of(token: &str) -> Value {
    decode_unverified(token).unwrap().1
}

fn hs256() -> Value {
    json!({ "alg": "HS256", "typ": "JWT" })
}

#[test]
fn a_token_lives_one_week_accepted_at_exp_plus_skew_and_refused_one_second_later() {
    let f = fixture(FaultSet::none());
    let issued = f.tokens.issue("dms-1", "org").unwrap();
    let claims = f.tokens.validate(&issued.access_token).unwrap();
    assert_eq!(claims.exp - claims.iat, 604_800);
    assert_eq!(issued.expires_in, 604_800);
    f.clock.advance(TOKEN_LIFETIME + CLOCK_SKEW);
    assert_eq!(f.clock.unix_seconds(), claims.exp + CLOCK_SKEW.as_secs());
    assert!(f.tokens.validate(&issued.access_token).is_ok());
    f.clock.advance(Duration::from_secs(1));
    assert!(matches!(
        f.tokens.validate(&issued.access_token),
        Err(TokenError::Expired)
    ));
}

#[test]
fn nbf_is_honoured_up_to_the_skew() {
    let f = fixture(FaultSet::none());
    let issued = f.tokens.issue("dms-1", "org").unwrap();
    let mut claims = claims_of(&issued.access_token);
    claims["nbf"] = json!(START + CLOCK_SKEW.as_secs());
    let at_edge = forge(&hs256(), &claims, Signing::Hs256(f.secret()));
    assert!(f.tokens.validate(&at_edge).is_ok());
    claims["nbf"] = json!(START + CLOCK_SKEW.as_secs() + 1);
    let early = forge(&hs256(), &claims, Signing::Hs256(f.secret()));
    assert!(f.tokens.validate(&early).is_err());
}

#[test]
fn every_token_of_the_attack_battery_is_refused() {
    let f = fixture(FaultSet::none());
    let issued = f.tokens.issue("dms-1", "org").unwrap();
    f.tokens.issue("another-dms", "org").unwrap();
    let key_pair = rcgen::KeyPair::generate().unwrap();
    let public_key = rcgen::PublicKeyData::subject_public_key_info(&key_pair);
    let battery = attacks(&issued.access_token, &f.secret(), &public_key);
    assert!(battery.len() >= 40, "{} attacks", battery.len());
    let accepted: Vec<_> = battery
        .iter()
        .filter(|a| f.tokens.validate(&a.token).is_ok())
        .map(|a| a.name.as_str())
        .collect();
    assert!(accepted.is_empty(), "accepted: {accepted:#?}");
    assert!(f.tokens.validate(&issued.access_token).is_ok());
}

#[test]
fn a_token_of_a_family_the_cloud_never_issued_is_refused_even_when_well_signed() {
    let f = fixture(FaultSet::none());
    let issued = f.tokens.issue("dms-1", "org").unwrap();
    let mut claims = claims_of(&issued.access_token);
    claims["fam"] = json!("made-up-family");
    let token = forge(&hs256(), &claims, Signing::Hs256(f.secret()));
    assert!(matches!(
        f.tokens.validate(&token),
        Err(TokenError::Invalid(_))
    ));
}

#[test]
fn a_refresh_key_works_once_and_rotates_token_and_key_within_the_family() {
    let f = fixture(FaultSet::none());
    let first = f.tokens.issue("dms-1", "org").unwrap();
    f.clock.advance(Duration::from_secs(3600));
    let second = f.tokens.refresh(&first.refresh_key).unwrap();
    let (old, new) = (
        f.tokens.validate(&first.access_token).unwrap(),
        f.tokens.validate(&second.access_token).unwrap(),
    );
    assert_eq!(old.fam, new.fam);
    assert_ne!(old.jti, new.jti);
    assert_eq!(new.iat, old.iat + 3600);
    assert_eq!(new.exp, new.iat + TOKEN_LIFETIME.as_secs());
    assert_ne!(first.refresh_key, second.refresh_key);
    // Only digests are kept.
    let book = f.tokens.lock();
    assert!(book.refresh.contains_key(&digest(&second.refresh_key)));
    assert!(book.refresh.keys().all(|d| d.len() == 32));
    drop(book);
    let grants: Vec<_> = f.tokens.issued().iter().map(|i| i.grant).collect();
    assert_eq!(grants, ["device_code", "refresh_token"]);
    assert_eq!(f.tokens.issued()[1].jti, new.jti);
}

#[test]
fn a_replayed_refresh_key_is_refused_and_revokes_the_whole_family() {
    let f = fixture(FaultSet::none());
    let other = f.tokens.issue("dms-2", "org").unwrap();
    let first = f.tokens.issue("dms-1", "org").unwrap();
    let second = f.tokens.refresh(&first.refresh_key).unwrap();
    let family = f.tokens.validate(&second.access_token).unwrap().fam;
    assert_eq!(
        f.tokens.refresh(&first.refresh_key).unwrap_err(),
        RefreshError::Replayed {
            family: family.clone(),
            revoked: true
        }
    );
    for token in [&first.access_token, &second.access_token] {
        assert!(matches!(f.tokens.validate(token), Err(TokenError::Revoked)));
    }
    assert_eq!(
        f.tokens.refresh(&second.refresh_key).unwrap_err(),
        RefreshError::Revoked(family)
    );
    // Another family is untouched.
    assert!(f.tokens.validate(&other.access_token).is_ok());
    assert!(f.tokens.refresh(&other.refresh_key).is_ok());
    assert_eq!(
        f.tokens.refresh("never-issued").unwrap_err(),
        RefreshError::Unknown
    );
}

#[test]
fn the_signing_key_is_read_from_the_vault_by_the_managed_identity_only() {
    let f = fixture(FaultSet::none());
    let issued = f.tokens.issue("dms-1", "org").unwrap();
    f.tokens.validate(&issued.access_token).unwrap();
    let accesses = f.vault.accesses();
    assert!(accesses.len() >= 2);
    assert!(
        accesses.iter().all(|a| a.granted
            && a.identity == "cloud-managed-identity"
            && a.secret == SIGNING_KEY)
    );
    // A token signed with the vault's key is accepted: that key is the one in use.
    let reforged = forge(
        &hs256(),
        &claims_of(&issued.access_token),
        Signing::Hs256(f.secret()),
    );
    assert!(f.tokens.validate(&reforged).is_ok());
}

#[test]
fn the_log_tells_what_happened_and_holds_no_token_refresh_key_or_secret() {
    let f = fixture(FaultSet::none());
    let first = f.tokens.issue("dms-1", "org").unwrap();
    let second = f.tokens.refresh(&first.refresh_key).unwrap();
    let _ = f.tokens.refresh(&first.refresh_key);
    let _ = f.tokens.validate(&second.access_token);
    let _ = f.tokens.validate("garbage");
    let lines = f.log.lines().join("\n");
    for needle in [
        "token issued for DMS dms-1",
        "refresh of family",
        "replay detected",
        "family revoked",
        "token refused",
    ] {
        assert!(lines.contains(needle), "{needle:?} missing from\n{lines}");
    }
    let hex: String = f.secret().iter().map(|b| format!("{b:02x}")).collect();
    for secret in [
        first.access_token.as_str(),
        first.refresh_key.as_str(),
        second.access_token.as_str(),
        second.refresh_key.as_str(),
        &hex,
    ] {
        assert!(!f.log.contains(secret));
        // Not even a signature or a refresh key's first half.
        assert!(!f.log.contains(&secret[secret.len() / 2..]));
    }
}

#[test]
fn a_disconnect_kills_every_family_of_the_dms_and_no_other() {
    for (faults, second_survives) in [
        (FaultSet::none(), false),
        (Fault::CloudDisconnectRevokesOneFamily.into(), true),
    ] {
        let f = fixture(faults);
        let issued = f.tokens.issue("dms-1", "org").unwrap();
        let another = f.tokens.issue("dms-1", "org").unwrap();
        let neighbour = f.tokens.issue("dms-2", "org").unwrap();
        let claims = f.tokens.validate(&issued.access_token).unwrap();
        assert_eq!(
            f.tokens.family_of(&issued.refresh_key),
            Some((claims.fam.clone(), "dms-1".to_owned()))
        );
        assert_eq!(
            f.tokens.family_of(&issued.access_token),
            Some((claims.fam.clone(), "dms-1".to_owned()))
        );
        assert_eq!(f.tokens.family_of("not-a-token"), None);
        let revoked = f.tokens.disconnect("dms-1", &claims.fam);
        assert_eq!(revoked.len(), if second_survives { 1 } else { 2 });
        assert!(f.tokens.disconnect("dms-1", &claims.fam).is_empty());
        assert!(matches!(
            f.tokens.validate(&issued.access_token),
            Err(TokenError::Revoked)
        ));
        assert!(f.tokens.refresh(&issued.refresh_key).is_err());
        assert_eq!(
            f.tokens.validate(&another.access_token).is_ok(),
            second_survives
        );
        assert!(f.tokens.validate(&neighbour.access_token).is_ok());
        assert_eq!(f.tokens.registered("dms-1").as_deref(), Some("org"));
        assert_eq!(f.tokens.registered("dms-9"), None);
    }
}

/// The faults that live in the token service.
const TOKEN_FAULTS: &[Fault] = &[
    Fault::CloudTokenLifetime30d,
    Fault::CloudAcceptAnyHmac,
    Fault::CloudAcceptAlgNone,
    Fault::CloudSkipExp,
    Fault::CloudNoRevokeOnDisconnect,
    Fault::CloudDisconnectRevokesOneFamily,
    Fault::CloudRefreshReusable,
    Fault::CloudNoFamilyRevocation,
    Fault::CloudIgnoreSub,
    Fault::CloudSecretInLogs,
];

#[test]
fn each_token_fault_changes_exactly_one_setting_of_the_policy_and_no_other_fault_any() {
    let specified = TokenPolicy::specified();
    assert_eq!(TokenPolicy::from_faults(&FaultSet::none()), specified);
    for &fault in Fault::ALL {
        let policy = TokenPolicy::from_faults(&fault.into());
        let changed = [
            policy.lifetime != specified.lifetime,
            policy.clock_skew != specified.clock_skew,
            policy.algorithms != specified.algorithms,
            policy.accept_unsigned != specified.accept_unsigned,
            policy.check_exp != specified.check_exp,
            policy.revoke_on_disconnect != specified.revoke_on_disconnect,
            policy.disconnect != specified.disconnect,
            policy.refresh.single_use != specified.refresh.single_use,
            policy.refresh.revoke_family_on_replay != specified.refresh.revoke_family_on_replay,
            policy.binding != specified.binding,
            policy.log_key_material != specified.log_key_material,
        ]
        .into_iter()
        .filter(|c| *c)
        .count();
        let expected = usize::from(TOKEN_FAULTS.contains(&fault));
        assert_eq!(changed, expected, "{fault}");
    }
}

#[test]
fn a_token_acts_for_its_own_dms_only_unless_binding_is_left_out() {
    for (faults, crosses) in [
        (FaultSet::none(), false),
        (Fault::CloudIgnoreSub.into(), true),
    ] {
        let f = fixture(faults);
        let one = f.tokens.issue("dms-1", "org").unwrap();
        f.tokens.issue("dms-2", "org").unwrap();
        f.tokens.issue("dms-elsewhere", "other-org").unwrap();
        let claims = f.tokens.validate(&one.access_token).unwrap();
        assert_eq!(
            f.tokens.act_for(claims.clone(), "dms-1").unwrap().sub,
            "dms-1"
        );
        let other = f.tokens.act_for(claims.clone(), "dms-2");
        assert_eq!(
            other.as_ref().map(|c| c.sub.as_str()).ok(),
            crosses.then_some("dms-2")
        );
        if !crosses {
            assert!(matches!(other, Err(TokenError::Forbidden { .. })));
        }
        // Never a DMS the cloud does not know.
        assert!(f.tokens.act_for(claims, "dms-9").is_err());
        assert!(f.tokens.account_reaches("org", "dms-2"));
        assert_eq!(f.tokens.account_reaches("org", "dms-elsewhere"), crosses);
        assert!(!f.tokens.account_reaches("org", "dms-9"));
    }
}

// One test per fault: the switch flips exactly the check it names.

#[test]
fn fault_accept_alg_none_accepts_an_unsigned_token_in_any_casing() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        for (faults, accepted) in [
            (FaultSet::none(), false),
            (Fault::CloudAcceptAlgNone.into(), true),
        ] {
            let f = fixture(faults);
            let issued = f.tokens.issue("dms-1", "org").unwrap();
            let token = forge(
                &json!({ "alg": alg, "typ": "JWT" }),
                &claims_of(&issued.access_token),
                Signing::None,
            );
            assert_eq!(f.tokens.validate(&token).is_ok(), accepted, "{alg}");
        }
    }
}

#[test]
fn fault_accept_any_hmac_accepts_hs384_and_hs512_with_the_real_key() {
    for (faults, accepted) in [
        (FaultSet::none(), false),
        (Fault::CloudAcceptAnyHmac.into(), true),
    ] {
        let f = fixture(faults);
        let claims = claims_of(&f.tokens.issue("dms-1", "org").unwrap().access_token);
        let hs384 = forge(
            &json!({ "alg": "HS384" }),
            &claims,
            Signing::Hs384(f.secret()),
        );
        let hs512 = forge(
            &json!({ "alg": "HS512" }),
            &claims,
            Signing::Hs512(f.secret()),
        );
        assert_eq!(f.tokens.validate(&hs384).is_ok(), accepted);
        assert_eq!(f.tokens.validate(&hs512).is_ok(), accepted);
        // Still no other key and no alg none.
        let stranger = forge(
            &json!({ "alg": "HS384" }),
            &claims,
            Signing::Hs384(vec![7; 32]),
        );
        assert!(f.tokens.validate(&stranger).is_err());
    }
}

#[test]
fn fault_skip_exp_accepts_an_expired_token() {
    for (faults, accepted) in [
        (FaultSet::none(), false),
        (Fault::CloudSkipExp.into(), true),
    ] {
        let f = fixture(faults);
        let issued = f.tokens.issue("dms-1", "org").unwrap();
        f.clock.advance(TOKEN_LIFETIME * 52);
        assert_eq!(f.tokens.validate(&issued.access_token).is_ok(), accepted);
    }
}

#[test]
fn fault_token_lifetime_30d_issues_month_long_tokens() {
    for (faults, lifetime) in [
        (FaultSet::none(), 604_800),
        (Fault::CloudTokenLifetime30d.into(), 2_592_000),
    ] {
        let f = fixture(faults);
        let issued = f.tokens.issue("dms-1", "org").unwrap();
        let claims = f.tokens.validate(&issued.access_token).unwrap();
        assert_eq!(claims.exp - claims.iat, lifetime);
        assert_eq!(issued.expires_in, lifetime);
    }
}

#[test]
fn fault_refresh_reusable_lets_a_used_refresh_key_work_again() {
    for (faults, reusable) in [
        (FaultSet::none(), false),
        (Fault::CloudRefreshReusable.into(), true),
    ] {
        let f = fixture(faults);
        let issued = f.tokens.issue("dms-1", "org").unwrap();
        f.tokens.refresh(&issued.refresh_key).unwrap();
        assert_eq!(f.tokens.refresh(&issued.refresh_key).is_ok(), reusable);
        assert_eq!(f.tokens.validate(&issued.access_token).is_ok(), reusable);
    }
}

#[test]
fn fault_no_family_revocation_refuses_the_replay_but_keeps_the_family() {
    for (faults, survives) in [
        (FaultSet::none(), false),
        (Fault::CloudNoFamilyRevocation.into(), true),
    ] {
        let f = fixture(faults);
        let issued = f.tokens.issue("dms-1", "org").unwrap();
        let renewed = f.tokens.refresh(&issued.refresh_key).unwrap();
        assert!(matches!(
            f.tokens.refresh(&issued.refresh_key),
            Err(RefreshError::Replayed { revoked, .. }) if revoked != survives
        ));
        assert_eq!(f.tokens.validate(&renewed.access_token).is_ok(), survives);
        assert_eq!(f.tokens.refresh(&renewed.refresh_key).is_ok(), survives);
    }
}

#[test]
fn fault_secret_in_logs_writes_the_signing_key_when_signing() {
    for (faults, leaked) in [
        (FaultSet::none(), false),
        (Fault::CloudSecretInLogs.into(), true),
    ] {
        let f = fixture(faults);
        f.tokens.issue("dms-1", "org").unwrap();
        let hex: String = f.secret().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(f.log.contains(&hex), leaked);
    }
}
