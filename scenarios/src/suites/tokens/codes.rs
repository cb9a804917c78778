//! FLOW-3 on device codes (RFC 8628 §3.2, §3.5, §5.2): a code works once, polling faster than
//! the interval is answered `slow_down`, and a code past its `expires_in` gives nothing. Each
//! played by a DMS the scenario scripts, since the agent itself never misbehaves this way.

use std::time::Duration;

use crate::clients::{CloudClient, Reply, ScriptedDms, Started};
use crate::steps::{self, approve_on_page};
use crate::{Ctx, Failure, oracle};

/// A DMS of the scenario's, with its device authorization answered.
async fn scripted(client: &CloudClient, id: &str) -> Result<(ScriptedDms, Started), Failure> {
    let dms = ScriptedDms::new(client, id)?;
    let started = dms.started().await?;
    Ok((dms, started))
}

fn token_of(reply: &Reply) -> bool {
    reply.field("access_token").is_some()
}

pub(super) async fn a_device_code_works_once(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let client = CloudClient::new(&env)?;
    let (dms, started) = scripted(&client, "dms-once").await?;
    let cookie = steps::cloud_login(&env, &client).await?;
    approve_on_page(&client, Some(&cookie), &started.user_code, &dms.id).await?;
    let first = dms.redeem(&started.device_code).await?;
    if !token_of(&first) {
        return Err(Failure::precondition(
            "the first redemption of an approved code",
            "a token",
            first,
        ));
    }
    // Politely, after the interval: only the code's being spent may refuse it.
    env.advance(Duration::from_secs(
        2 * spec.device_flow.min_interval_seconds,
    ))
    .await;
    let second = dms.redeem(&started.device_code).await?;
    ev.expect_eq(
        "device-code-works-once",
        "the second redemption of the same device code: a token",
        false,
        token_of(&second),
    )?;
    ev.expect_eq(
        "spent-device-code-is-invalid-grant",
        "the second redemption: HTTP status and error",
        (400, Some("invalid_grant".to_owned())),
        (second.status, second.error()),
    )?;
    let families: Vec<String> = env
        .cloud()
        .issued()
        .into_iter()
        .filter(|i| i.dms_id == dms.id)
        .map(|i| i.family)
        .collect();
    ev.expect_eq(
        "one-family-per-code",
        "token families the cloud issued for the code",
        1,
        families.len(),
    )
}

pub(super) async fn polling_too_fast_slows_down(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let client = CloudClient::new(&env)?;
    let (dms, started) = scripted(&client, "dms-impatient").await?;
    let interval = started
        .interval
        .unwrap_or(spec.device_flow.min_interval_seconds);
    ev.expect(
        "announced-interval-at-least-the-rfc-default",
        "the polling interval the cloud announced (s)",
        interval >= spec.device_flow.min_interval_seconds,
        &format!("at least {} s", spec.device_flow.min_interval_seconds),
        started.interval,
    )?;
    let first = dms.redeem(&started.device_code).await?;
    let hasty = dms.redeem(&started.device_code).await?;
    ev.saw("the first poll's error", first.error());
    ev.expect_eq(
        "early-poll-gets-slow-down",
        "a poll at once after the first: error",
        Some("slow_down".to_owned()),
        hasty.error(),
    )?;
    // RFC 8628 §3.5: the interval grew; a poll that keeps to the grown one is answered.
    let grown = interval + spec.device_flow.slow_down_step_seconds;
    env.advance(Duration::from_secs(grown)).await;
    let patient = dms.redeem(&started.device_code).await?;
    ev.expect_eq(
        "poll-at-the-grown-interval-answered",
        "a poll after the grown interval: error",
        Some("authorization_pending".to_owned()),
        patient.error(),
    )
}

pub(super) async fn a_device_code_expires(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let client = CloudClient::new(&env)?;
    let (dms, started) = scripted(&client, "dms-late").await?;
    let lifetime = started.expires_in.unwrap_or(u64::MAX);
    ev.expect(
        "announced-lifetime-within-bounds",
        "the device code's expires_in (s)",
        lifetime <= spec.device_flow.max_expires_in_seconds,
        &format!("at most {} s", spec.device_flow.max_expires_in_seconds),
        started.expires_in,
    )?;
    // The code's lifetime passes; then the Administrator approves and the DMS polls.
    env.advance(Duration::from_secs(
        lifetime.saturating_add(1).min(24 * 3600),
    ))
    .await;
    let cookie = steps::cloud_login(&env, &client).await?;
    let approval = approve_on_page(&client, Some(&cookie), &started.user_code, &dms.id).await?;
    let late = dms.redeem(&started.device_code).await?;
    ev.expect_eq(
        "expired-device-code-redeems-nothing",
        "a poll once expires_in has passed: a token",
        false,
        token_of(&late),
    )?;
    ev.expect_eq(
        "expired-device-code-is-expired-token",
        "that poll: HTTP status and error",
        (400, Some("expired_token".to_owned())),
        (late.status, late.error()),
    )?;
    ev.expect_eq(
        "expired-user-code-not-approvable",
        "approving the expired user code: HTTP status",
        404,
        approval.answer.status,
    )
}
