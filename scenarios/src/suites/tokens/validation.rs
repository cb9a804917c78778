//! TOK-1, TOK-3, TOK-5: what a token is, and every way a wrong one is refused.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use mocks::Environment;
use mocks::cloud::{CLOCK_SKEW, Endpoint, Identity, SIGNING_KEY, TOKEN_LIFETIME};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::clients::CloudClient;
use crate::steps;
use crate::{Ctx, Failure};

/// The DMS's current token, from its credential file.
fn stored_token(env: &Environment) -> Result<String, Failure> {
    env.dms_credentials()
        .stored()
        .map(|c| c.access_token)
        .ok_or_else(|| {
            Failure::violation("dms-credentials", "the DMS's credentials", "stored", "none")
        })
}

/// The signing key, read the way only the cloud may read it: an auditor's privilege.
fn signing_key(env: &Environment) -> Result<Vec<u8>, Failure> {
    env.cloud()
        .vault()
        .read(&Identity::CloudManagedIdentity, SIGNING_KEY)
        .map_err(|e| Failure::Harness(format!("the vault refused the cloud itself: {e}")))
}

fn hs256_signature_matches(token: &str, key: &[u8]) -> bool {
    let Some((input, signature)) = token.rsplit_once('.') else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return false;
    };
    mac.update(input.as_bytes());
    URL_SAFE_NO_PAD
        .decode(signature)
        .is_ok_and(|given| mac.verify_slice(&given).is_ok())
}

pub(super) async fn claims_and_lifetime(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let issued_at = env.clock().unix_seconds();
    steps::connect_dms(&env).await?;
    let token = stored_token(&env)?;
    let (header, claims) = probes::jwt::decode_unverified(&token).ok_or_else(|| {
        Failure::violation(
            "dms-token",
            "the DMS's token",
            "a JWS compact token",
            token.len(),
        )
    })?;
    ev.expect_eq(
        "header",
        "header",
        json!({ "alg": "HS256", "typ": "JWT" }),
        header,
    )?;
    let key = signing_key(&env)?;
    ev.expect_eq(
        "hmac-sha256-vault-key-matches-signature",
        "HMAC-SHA256 with the vault's key matches the signature",
        true,
        hs256_signature_matches(&token, &key),
    )?;
    let field = |name: &str| claims.get(name).cloned().unwrap_or(Value::Null);
    ev.expect_eq("sub", "sub", json!(env.accounts().dms_id), field("sub"))?;
    ev.expect_eq("aud", "aud", json!("dataminer.services"), field("aud"))?;
    ev.expect_eq(
        "iss",
        "iss",
        json!("https://connection.dataminer.services/"),
        field("iss"),
    )?;
    ev.expect(
        "jti",
        "jti",
        field("jti").as_str().is_some_and(|j| j.len() >= 16),
        "a unique ID",
        field("jti"),
    )?;
    let (iat, exp) = (field("iat").as_u64(), field("exp").as_u64());
    ev.expect(
        "iat",
        "iat",
        iat.is_some_and(|iat| iat >= issued_at && iat <= env.clock().unix_seconds()),
        "the moment of issue, as an integer",
        field("iat"),
    )?;
    ev.expect_eq(
        "exp-iat-seconds",
        "exp - iat (seconds)",
        Some(604_800),
        exp.zip(iat).map(|(e, i)| e.saturating_sub(i)),
    )
}

pub(super) async fn forged_and_tampered_refused(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let token = stored_token(&env)?;
    let key = signing_key(&env)?;
    let outsider = CloudClient::new(&env)?;

    let control = outsider
        .get_with_token(Endpoint::Connection, "api/dms/self", &token)
        .await?;
    ev.expect_eq(
        "genuine-token-api-http-status",
        "the genuine token on the API: HTTP status",
        200,
        control.status,
    )?;

    let attacks = probes::jwt::attacks(&token, &key, env.ca_der().as_ref());
    let mut accepted = Vec::new();
    for attack in &attacks {
        let api = outsider
            .get_with_token(Endpoint::Connection, "api/dms/self", &attack.token)
            .await?;
        let tunnel = outsider.try_tunnel(&attack.token).await?;
        if api.status != 401 || tunnel != 401 {
            accepted.push(format!(
                "{}: API {}, tunnel {}",
                attack.name, api.status, tunnel
            ));
        }
    }
    ev.saw(
        "forged and tampered tokens tried on the API and the tunnel",
        attacks.len(),
    );
    ev.expect(
        "forged-tokens-tried",
        "forged tokens tried",
        !attacks.is_empty(),
        "a battery",
        attacks.len(),
    )?;
    ev.expect_eq(
        "forged-tokens-not-refused-401",
        "forged tokens not refused with 401",
        Vec::<String>::new(),
        accepted,
    )
}

pub(super) async fn expired_token_refused(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    // A DMS that never renews: its first token is the one that must die on time.
    let (_, token) = steps::register_another_dms(&env, "dms-offline").await?;
    let iat = probes::jwt::decode_unverified(&token)
        .and_then(|(_, claims)| claims.get("iat").and_then(Value::as_u64))
        .ok_or_else(|| {
            Failure::violation("token-iat", "the token's iat", "an integer", token.len())
        })?;
    ev.saw(
        "clock-skew allowance past exp (seconds)",
        CLOCK_SKEW.as_secs(),
    );
    let outsider = CloudClient::new(&env)?;

    let last_good = iat + TOKEN_LIFETIME.as_secs() + CLOCK_SKEW.as_secs();
    let now = env.clock().unix_seconds();
    steps::let_time_pass(
        &env,
        Duration::from_secs(last_good.saturating_sub(now)),
        7 * 24,
    )
    .await;
    let at_edge = outsider
        .get_with_token(Endpoint::Connection, "api/dms/self", &token)
        .await?;
    ev.expect_eq(
        "iat-7-days-skew-http-status",
        "at iat + 7 days + skew: HTTP status",
        200,
        at_edge.status,
    )?;

    env.advance(Duration::from_secs(1)).await;
    let after = outsider
        .get_with_token(Endpoint::Connection, "api/dms/self", &token)
        .await?;
    ev.expect_eq(
        "one-second-later-api-http-status",
        "one second later, on the API: HTTP status",
        401,
        after.status,
    )?;
    let tunnel = outsider.try_tunnel(&token).await?;
    ev.expect_eq(
        "one-second-later-tunnel-http-status",
        "one second later, on the tunnel: HTTP status",
        401,
        tunnel,
    )
}

pub(super) async fn token_opens_only_its_own_dms(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let dms_a = env.accounts().dms_id.clone();
    let token_a = stored_token(&env)?;
    let (dms_b, token_b) = steps::register_another_dms(&env, "dms-second").await?;
    let outsider = CloudClient::new(&env)?;
    let status = |token: &str, dms: &str| {
        let (outsider, token, path) =
            (outsider.clone(), token.to_owned(), format!("api/dms/{dms}"));
        async move {
            outsider
                .get_with_token(Endpoint::Connection, &path, &token)
                .await
                .map(|r| r.status)
        }
    };
    ev.expect_eq(
        "token-http-status",
        "A's token on A: HTTP status",
        200,
        status(&token_a, &dms_a).await?,
    )?;
    ev.expect_eq(
        "b-token-b-http-status",
        "B's token on B: HTTP status",
        200,
        status(&token_b, &dms_b).await?,
    )?;
    ev.expect_eq(
        "token-b-http-status",
        "A's token on B: HTTP status",
        403,
        status(&token_a, &dms_b).await?,
    )?;
    ev.expect_eq(
        "b-token-http-status",
        "B's token on A: HTTP status",
        403,
        status(&token_b, &dms_a).await?,
    )
}
