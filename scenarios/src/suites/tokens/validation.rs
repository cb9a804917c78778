//! TOK-1, TOK-3, TOK-5: what a token is, and every way a wrong one is refused.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use mocks::Environment;
use mocks::cloud::{Endpoint, TunnelEvent};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::clients::CloudClient;
use crate::steps;
use crate::{Ctx, Failure, oracle};

/// The DMS's current token, from its credential file.
fn stored_token(env: &Environment) -> Result<String, Failure> {
    env.dms_credentials()
        .stored()
        .map(|c| c.access_token)
        .ok_or_else(|| Failure::precondition("the connect flow", "credentials stored", "none"))
}

/// Every secret the vault holds, read as the cloud's managed identity: an auditor's
/// privilege, through the environment operator's accessor.
pub(super) fn vault_secrets(env: &Environment) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    let cloud = env.cloud();
    cloud
        .vault()
        .names()
        .into_iter()
        .map(|name| {
            cloud
                .vault()
                .read(cloud.managed_identity(), &name)
                .map(|secret| (name.clone(), secret))
                .map_err(|e| Failure::Harness(format!("the vault refused the cloud itself: {e}")))
        })
        .collect()
}

/// The vault's secret that `token`'s HS256 signature verifies with, if one does.
pub(crate) fn signing_key(env: &Environment, token: &str) -> Result<Option<Vec<u8>>, Failure> {
    Ok(vault_secrets(env)?
        .into_iter()
        .map(|(_, secret)| secret)
        .find(|secret| hs256_signature_matches(token, secret)))
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
    let spec = oracle::spec()?;
    let issued_at = env.clock().unix_seconds();
    steps::connect_dms(&env).await?;
    let token = stored_token(&env)?;
    let (header, claims) = probes::jwt::decode_unverified(&token).ok_or_else(|| {
        Failure::violation(
            "token-is-a-jws",
            "the DMS's token",
            "a JWS compact token",
            token.len(),
        )
    })?;
    let field = |name: &str| claims.get(name).cloned().unwrap_or(Value::Null);
    let (iat, exp) = (field("iat").as_u64(), field("exp").as_u64());
    ev.expect_eq(
        "token-lives-one-week",
        "exp - iat (seconds)",
        Some(spec.token.lifetime_seconds),
        exp.zip(iat).map(|(e, i)| e.saturating_sub(i)),
    )?;
    ev.expect(
        "iat-is-the-moment-of-issue",
        "iat",
        iat.is_some_and(|iat| iat >= issued_at && iat <= env.clock().unix_seconds()),
        "the moment of issue, as an integer",
        field("iat"),
    )?;
    ev.expect_eq(
        "header-names-hs256",
        "header",
        json!({ "alg": spec.token.algorithm, "typ": "JWT" }),
        header,
    )?;
    ev.expect_eq(
        "signed-with-the-vault-key",
        "a key of the vault verifies the HMAC-SHA256 signature",
        true,
        signing_key(&env, &token)?.is_some(),
    )?;
    ev.expect_eq(
        "sub-names-the-dms",
        "sub",
        json!(env.accounts().dms_id),
        field("sub"),
    )?;
    ev.expect_eq(
        "aud-is-the-cloud",
        "aud",
        json!(spec.hosts.domain),
        field("aud"),
    )?;
    ev.expect_eq(
        "iss-is-the-connection-endpoint",
        "iss",
        json!(format!("https://{}/", spec.hosts.connection)),
        field("iss"),
    )?;
    ev.expect(
        "jti-is-unique",
        "jti",
        field("jti").as_str().is_some_and(|j| j.len() >= 16),
        "a unique ID",
        field("jti"),
    )
}

pub(super) async fn forged_and_tampered_refused(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let token = stored_token(&env)?;
    let key = signing_key(&env, &token)?.ok_or_else(|| {
        Failure::precondition(
            "the signing key",
            "a key of the vault that verifies the DMS's token",
            "none does",
        )
    })?;
    let outsider = CloudClient::new(&env)?;

    let control = outsider
        .get_with_token(Endpoint::Connection, "api/dms/self", &token)
        .await?;
    if control.status != 200 {
        return Err(Failure::precondition(
            "the genuine token on the API",
            "HTTP 200",
            control.status,
        ));
    }

    let attacks = probes::jwt::attacks(&token, &key, env.ca_der().as_ref());
    if attacks.is_empty() {
        return Err(Failure::Harness("the forged-token battery is empty".into()));
    }
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
    ev.expect_eq(
        "forged-tokens-refused",
        "forged tokens the cloud did not refuse with 401",
        Vec::<String>::new(),
        accepted,
    )
}

pub(super) async fn expired_token_refused(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    // A DMS that never renews: its first token is the one that must die on time.
    let (_, token) = steps::register_another_dms(&env, "dms-offline").await?;
    let iat = probes::jwt::decode_unverified(&token)
        .and_then(|(_, claims)| claims.get("iat").and_then(Value::as_u64))
        .ok_or_else(|| Failure::precondition("the token's iat", "an integer", token.len()))?;
    let skew = spec.token.clock_skew_allowance_seconds;
    ev.saw("clock-skew allowance past exp (seconds)", skew);
    let outsider = CloudClient::new(&env)?;

    let last_good = iat + spec.token.lifetime_seconds + skew;
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
        "accepted-up-to-lifetime-and-skew",
        "at iat + 7 days + skew: HTTP status",
        200,
        at_edge.status,
    )?;

    env.advance(Duration::from_secs(1)).await;
    let after = outsider
        .get_with_token(Endpoint::Connection, "api/dms/self", &token)
        .await?;
    ev.expect_eq(
        "refused-past-lifetime-on-api",
        "one second later, on the API: HTTP status",
        401,
        after.status,
    )?;
    let tunnel = outsider.try_tunnel(&token).await?;
    ev.expect_eq(
        "refused-past-lifetime-on-tunnel",
        "one second later, on the tunnel: HTTP status",
        401,
        tunnel,
    )
}

/// How many tunnels the cloud's record says it opened for `dms_id`.
fn tunnels_opened_for(env: &Environment, dms_id: &str) -> usize {
    env.cloud()
        .tunnels()
        .events()
        .iter()
        .filter(|e| matches!(e, TunnelEvent::Opened { dms_id: d, .. } if d == dms_id))
        .count()
}

/// Whether the cloud's answer names `dms_id`'s registration.
fn serves(reply: &crate::clients::Reply, dms_id: &str) -> bool {
    reply.body.get("dms_id").and_then(Value::as_str) == Some(dms_id)
}

pub(super) async fn token_opens_only_its_own_dms(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let dms_a = env.accounts().dms_id.clone();
    let token_a = stored_token(&env)?;
    let (dms_b, token_b) = steps::register_another_dms(&env, "dms-second").await?;
    let outsider = CloudClient::new(&env)?;
    let api = |token: &str, dms: &str| {
        let (outsider, token, path) =
            (outsider.clone(), token.to_owned(), format!("api/dms/{dms}"));
        async move {
            outsider
                .get_with_token(Endpoint::Connection, &path, &token)
                .await
        }
    };

    // The controls: each token opens its own DMS, so a refusal below is about binding.
    for (who, token, dms) in [("A", &token_a, &dms_a), ("B", &token_b, &dms_b)] {
        let own = api(token, dms).await?;
        if own.status != 200 || !serves(&own, dms) {
            return Err(Failure::precondition(
                format!("{who}'s token on {who}'s registration"),
                "HTTP 200 naming it",
                (own.status, own.body),
            ));
        }
    }

    // Every route that serves a DMS by ID, with each token on the other DMS: the API, and a
    // tunnel upgrade that names the other DMS, judged by the cloud's record of tunnels.
    let mut opened = Vec::new();
    let mut statuses = Vec::new();
    for (who, token, other, other_name) in
        [("A", &token_a, &dms_b, "B"), ("B", &token_b, &dms_a, "A")]
    {
        let reply = api(token, other).await?;
        if serves(&reply, other) {
            opened.push(format!(
                "{who}'s token read {other_name}'s registration on the API (HTTP {})",
                reply.status
            ));
        }
        statuses.push((format!("{who}'s token on {other_name}'s API"), reply.status));
        let before = tunnels_opened_for(&env, other);
        let upgrade = outsider.try_tunnel_as(token, other).await?;
        let registered = tunnels_opened_for(&env, other) - before;
        if registered > 0 {
            opened.push(format!(
                "{who}'s token opened {registered} tunnel(s) the cloud registered as {other_name} (HTTP {upgrade})"
            ));
        }
        statuses.push((
            format!("{who}'s token on a tunnel as {other_name}"),
            upgrade,
        ));
    }
    ev.expect_eq(
        "token-opens-another-dms",
        "what each DMS's token opened of the other DMS (API reads, tunnels on the cloud's record)",
        Vec::<String>::new(),
        opened,
    )?;
    // The refusals say why: forbidden, not unauthenticated, so the cloud read the DMS named.
    ev.expect(
        "another-dms-is-forbidden",
        "HTTP status of each token on the other DMS",
        statuses.iter().all(|(_, status)| *status == 403),
        "403 on every route",
        &statuses,
    )
}
