//! Remote sign-in failures lock out no one else: a remote account guessing a share user's
//! password never reaches the DMA with it, and the Cloud Gateway's own sign-in of that share
//! user still works; one account's failures on a DMS are bounded across every login it
//! tries, while another account signs in. The bounds are the spec's data
//! (`fixtures/spec.json`: `gateway_sign_in`, `remote_access`).

use std::time::Duration;

use serde_json::{Value, json};

use super::support::{
    connection_of, gateway_sign_ins, member_and_admin_enabled, owner_enables, share_with_outsider,
    sign_in,
};
use crate::steps::Recipient;
use crate::{Ctx, Failure, oracle};

/// The dashboard shared (one of the fixtures').
const DASHBOARD: &str = "core-network";

pub(super) async fn share_users_cannot_be_locked_out(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let env = ctx.environment().await?;
    let (share_id, login) = share_with_outsider(&env, DASHBOARD).await?;
    let accounts = env.accounts().clone();
    let dms = accounts.dms_id.clone();
    owner_enables(&env, &dms, &[&accounts.cloud_member]).await?;
    let a = Recipient::signed_in_as(&env, &accounts.cloud_member).await?;

    // The remote account guesses the share user's password, well past the per-login limit.
    let tries = 3 * spec.gateway_sign_in.failures_allowed;
    let before = gateway_sign_ins(&env);
    let mut answers = Vec::new();
    for n in 0..tries {
        let (status, _) = sign_in(&a, &dms, &login, &format!("guess-{n:04}")).await?;
        answers.push(status);
    }
    let reached = gateway_sign_ins(&env) - before;
    ev.saw("the remote guesses' answers (HTTP status)", &answers);

    // The Cloud Gateway signs the share user in, as it does on the DMS side: through the WAF,
    // with the gateway's key and the share user's password the DMS handed it.
    let (password_login, password) = env.dma().gateway_credentials(&share_id).ok_or_else(|| {
        Failure::precondition("the share user's credentials", "the DMS's", &share_id)
    })?;
    let (name, key) = env.dma().gateway_key().header();
    let url = format!("http://{}/API/v1/Json.asmx/ConnectApp", env.waf().addr());
    let body = json!({
        "host": "", "login": password_login, "password": password,
        "clientAppName": "Cloud Gateway", "clientAppVersion": "1", "clientComputerName": "gateway",
    });
    let http = crate::clients::http()
        .build()
        .map_err(|e| Failure::Harness(format!("cannot build a client: {e}")))?;
    let gateway = http
        .post(url)
        .header(name, key)
        .json(&body)
        .send()
        .await
        .map_err(|e| Failure::precondition("the gateway's sign-in", "an answer", e.to_string()))?;
    let status = gateway.status().as_u16();
    let answer: Value = gateway.json().await.unwrap_or(Value::Null);
    ev.expect_eq(
        "share-user-sign-in-unaffected",
        "the Cloud Gateway's sign-in of the share user after the remote guesses: HTTP status, a connection",
        (200, true),
        (status, connection_of(&answer).is_some()),
    )?;
    ev.expect_eq(
        "remote-share-sign-ins-never-reach-dma",
        "remote sign-ins as the share user that reached the DMA",
        0,
        reached,
    )?;
    ev.expect_eq(
        "remote-share-sign-ins-refused",
        "remote sign-ins as the share user answered 403",
        tries,
        answers.iter().filter(|s| **s == 403).count(),
    )
}

pub(super) async fn guessing_is_bounded_per_account(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let bound = spec.remote_access.failures_per_account;
    let env = ctx.environment().await?;
    let dms = member_and_admin_enabled(&env).await?;
    let accounts = env.accounts().clone();
    let a = Recipient::signed_in_as(&env, &accounts.cloud_member).await?;
    let b = Recipient::signed_in_as(&env, &accounts.cloud_org_admin).await?;

    // A guesses across many logins: the DMS's own and made-up ones, never the same twice in a
    // row, fewer per login than the per-login limit.
    let mut logins: Vec<String> = [
        &accounts.dms_admin,
        &accounts.dms_operator,
        &accounts.dms_viewer,
    ]
    .iter()
    .map(|u| u.login.clone())
    .collect();
    logins.extend((0..6 * bound).map(|n| format!("user{n:03}")));
    let tries = 4 * bound;
    let before = gateway_sign_ins(&env);
    let mut answers = Vec::new();
    for n in 0..tries {
        let login = &logins[n % logins.len()];
        let (status, _) = sign_in(&a, &dms, login, &format!("guess-{n:04}")).await?;
        answers.push(status);
    }
    let reached = gateway_sign_ins(&env) - before;
    ev.saw("the guesses' answers (HTTP status)", &answers);
    ev.expect(
        "guesses-across-logins-bounded",
        "one account's failed remote sign-ins across logins that reached the DMA in the window",
        reached <= bound,
        &format!("at most {bound}"),
        reached,
    )?;
    ev.expect_eq(
        "guesses-past-the-bound-answered-429",
        "the guesses past the bound answered 429",
        tries - bound,
        answers.iter().filter(|s| **s == 429).count(),
    )?;

    // Another account signs in meanwhile; A itself once the window has passed.
    let admin = &accounts.dms_admin;
    let (other, _) = sign_in(&b, &dms, &admin.login, &admin.password).await?;
    ev.expect_eq(
        "other-account-unaffected",
        "another enabled account's sign-in with the right password meanwhile: HTTP status",
        200,
        other,
    )?;
    env.advance(Duration::from_secs(spec.remote_access.window_seconds + 1))
        .await;
    let (later, _) = sign_in(&a, &dms, &admin.login, &admin.password).await?;
    ev.expect_eq(
        "account-signs-in-after-the-window",
        "the guessing account's sign-in with the right password once the window passed: HTTP status",
        200,
        later,
    )
}
