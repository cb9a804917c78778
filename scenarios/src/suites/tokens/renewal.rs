//! TOK-4: renewal before expiry, single-use refresh keys, and riding out a sick cloud.

use std::time::Duration;

use mocks::Environment;
use mocks::cloud::{Endpoint, Outage, TunnelEvent};
use serde_json::json;

use crate::clients::CloudClient;
use crate::steps::{self, PROMPTLY};
use crate::{Ctx, Failure};

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

/// The longest stretch, in seconds of simulated time, during which the cloud held no tunnel
/// for `dms_id` after the first one opened; and how many tunnels opened in all.
fn longest_gap(env: &Environment, dms_id: &str, until: u64) -> (u64, usize) {
    let mut live = 0usize;
    let mut opened = 0usize;
    let mut down_since: Option<u64> = None;
    let mut longest = 0;
    for event in env.cloud().tunnels().events() {
        match event {
            TunnelEvent::Opened {
                dms_id: d, at_unix, ..
            } if d == dms_id => {
                live += 1;
                opened += 1;
                if let Some(since) = down_since.take() {
                    longest = longest.max(at_unix - since);
                }
            }
            TunnelEvent::Closed {
                dms_id: d, at_unix, ..
            } if d == dms_id => {
                live = live.saturating_sub(1);
                if live == 0 {
                    down_since = Some(at_unix);
                }
            }
            _ => {}
        }
    }
    if let Some(since) = down_since {
        longest = longest.max(until.saturating_sub(since)).max(1);
    }
    (longest, opened)
}

pub(super) async fn four_weeks_without_a_gap(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let mut hours_without_credentials = 0;
    for _ in 0..(28 * 24) {
        env.advance(HOUR).await;
        if env.dms_credentials().stored().is_none() {
            hours_without_credentials += 1;
        }
    }
    ev.expect_eq(
        "hours the DMS held no credentials",
        0,
        hours_without_credentials,
    )?;
    let renewals = env
        .cloud()
        .issued()
        .iter()
        .filter(|i| i.grant == "refresh_token")
        .count();
    ev.expect(
        "renewals the cloud granted in four weeks",
        renewals >= 27,
        "about one a day",
        renewals,
    )?;
    let (gap, opened) = longest_gap(&env, &env.accounts().dms_id, env.clock().unix_seconds());
    ev.saw("tunnels the DMS opened in four weeks", opened);
    ev.expect_eq("longest time without a tunnel (s)", 0, gap)?;
    // The replaced tunnels close on their own task; wait for the cloud to see them go.
    let settled = env
        .cloud()
        .tunnels()
        .wait_live(&env.accounts().dms_id, mocks::agent::TUNNELS, PROMPTLY)
        .await;
    ev.expect(
        "tunnels up at the end",
        settled,
        &format!("exactly {}", mocks::agent::TUNNELS),
        env.cloud().tunnels().live().len(),
    )
}

pub(super) async fn refresh_key_works_once(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    // A thief copies the DMS's credential file; the DMS then renews as usual.
    let stolen = env
        .dms_credentials()
        .stored()
        .ok_or_else(|| Failure::expectation("the DMS's credentials", "stored", "none"))?;
    steps::let_time_pass(&env, DAY + HOUR, 25).await;
    let renewed = env.dms_credentials().stored().ok_or_else(|| {
        Failure::expectation("the DMS's credentials after a day", "stored", "none")
    })?;
    ev.expect_eq(
        "the DMS renewed (its refresh key changed)",
        true,
        renewed.refresh_key != stolen.refresh_key,
    )?;

    let thief = CloudClient::new(&env)?;
    let replay = thief
        .post(
            Endpoint::Connection,
            "oauth/token",
            &json!({ "grant_type": "refresh_token", "refresh_token": stolen.refresh_key }),
            None,
        )
        .await?;
    ev.expect_eq(
        "replaying the used refresh key: HTTP status",
        400,
        replay.status,
    )?;
    ev.expect_eq(
        "replaying the used refresh key: error",
        json!("invalid_grant"),
        replay.body["error"].clone(),
    )?;

    let current = thief
        .get_with_token(Endpoint::Connection, "api/dms/self", &renewed.access_token)
        .await?;
    ev.expect_eq(
        "the family's current token after the replay: HTTP status",
        401,
        current.status,
    )?;
    let dms_id = &env.accounts().dms_id;
    let dropped = env.cloud().tunnels().wait_live(dms_id, 0, PROMPTLY).await;
    ev.expect(
        "the DMS's tunnel after the replay",
        dropped,
        "closed by the cloud",
        env.cloud().tunnels().live().len(),
    )?;
    let let_go = steps::dms_let_go_of_tunnels(&env).await;
    ev.expect(
        "the DMS's end of the closed tunnel",
        let_go,
        "closed",
        env.dms_egress().to(Endpoint::Tunnel.host()),
    )?;
    steps::let_time_pass(&env, 2 * HOUR, 4).await;
    ev.expect_eq(
        "credentials the DMS still holds (it must run the connect flow again)",
        false,
        env.dms_credentials().stored().is_some(),
    )?;
    let next = thief
        .post(
            Endpoint::Connection,
            "oauth/token",
            &json!({ "grant_type": "refresh_token", "refresh_token": renewed.refresh_key }),
            None,
        )
        .await?;
    ev.expect_eq(
        "the family's current refresh key after the replay: HTTP status",
        400,
        next.status,
    )
}

pub(super) async fn rides_out_outages(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let first = env
        .dms_credentials()
        .stored()
        .ok_or_else(|| Failure::expectation("the DMS's credentials", "stored", "none"))?;
    let refresh_attempts = |env: &Environment| {
        env.cloud()
            .requests()
            .all()
            .into_iter()
            .filter(|r| r.path.starts_with("/oauth/token") && r.body.contains("refresh_token"))
            .map(|r| r.at_unix)
            .collect::<Vec<_>>()
    };

    env.cloud().outage().set(Outage::ServerErrors);
    // Up to a minute before the daily renewal is due, then in ten-second steps through it.
    steps::let_time_pass(&env, DAY - Duration::from_secs(60), 24).await;
    steps::let_time_pass(&env, Duration::from_secs(900), 90).await;
    let attempts = refresh_attempts(&env);
    let gaps: Vec<u64> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    ev.saw(
        "seconds between refresh attempts while the cloud answers 500",
        &gaps,
    );
    ev.expect(
        "refresh attempts during the 500s",
        attempts.len() >= 3,
        "retries",
        attempts.len(),
    )?;
    ev.expect(
        "the retries back off",
        gaps.windows(2).all(|w| w[1] >= w[0]) && gaps.first().is_some_and(|g| *g >= 10),
        "growing gaps from 10 s",
        &gaps,
    )?;

    env.cloud().outage().set(Outage::Down);
    steps::let_time_pass(&env, Duration::from_secs(600), 60).await;
    // Compared, never recorded: a report is shared widely and must not carry a live token.
    let kept = env.dms_credentials().stored().map(|c| c.access_token);
    ev.expect_eq(
        "the DMS still holds its first, still valid token during the outage",
        true,
        kept.as_deref() == Some(first.access_token.as_str()),
    )?;

    env.cloud().outage().set(Outage::Silent);
    // Every try on a hanging cloud costs the agent its network timeout in real time: a short
    // one while the cloud hangs, and only then (on a loaded machine, the same bound on every
    // exchange with a healthy cloud fails some of them).
    env.agent_network_timeout().set(Duration::from_millis(250));
    let dialled = env.dms_egress().total().connections;
    steps::let_time_pass(&env, Duration::from_secs(600), 60).await;
    let tries = env.dms_egress().total().connections - dialled;
    ev.expect(
        "connections the DMS tried while the cloud hung",
        tries > 0,
        "retries that time out",
        tries,
    )?;
    let kept = env.dms_credentials().stored().map(|c| c.access_token);
    ev.expect_eq(
        "the DMS still holds its first token while the cloud hangs",
        true,
        kept.as_deref() == Some(first.access_token.as_str()),
    )?;

    env.cloud().outage().set(Outage::None);
    env.agent_network_timeout()
        .set(mocks::agent::NETWORK_TIMEOUT);
    steps::let_time_pass(&env, Duration::from_secs(600), 60).await;
    let after = env.dms_credentials().stored().map(|c| c.access_token);
    ev.expect(
        "after the cloud recovers, the DMS holds",
        after.as_ref().is_some_and(|t| *t != first.access_token),
        "a renewed token",
        after.is_some(),
    )?;
    let (gap, _) = longest_gap(&env, &env.accounts().dms_id, env.clock().unix_seconds());
    ev.expect_eq("longest time without a tunnel (s)", 0, gap)
}
