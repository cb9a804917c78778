//! TOK-4: renewal before expiry, single-use refresh keys, and riding out a sick cloud.

use std::time::Duration;

use mocks::Environment;
use mocks::cloud::{Endpoint, Outage, TunnelEvent};
use serde_json::json;

use crate::clients::CloudClient;
use crate::steps::{self, PROMPTLY};
use crate::{Ctx, Failure, oracle};

const HOUR: Duration = Duration::from_secs(3600);

/// The simulated seconds at which the cloud received a refresh grant, and whether it answered
/// it with a new token: from the cloud's request record.
fn refresh_grants(env: &Environment) -> Vec<(u64, bool)> {
    env.cloud()
        .requests()
        .all()
        .into_iter()
        .filter(|r| r.path.starts_with("/oauth/token") && r.body.contains("refresh_token"))
        .map(|r| {
            (
                r.at_unix,
                r.status == 200 && r.response.contains("\"access_token\""),
            )
        })
        .collect()
}

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
    let spec = oracle::spec()?;
    steps::connect_dms(&env).await?;
    let kept = usize::try_from(env.dms_egress().to(&spec.hosts.tunnel).open).unwrap_or(0);
    let started = env.clock().unix_seconds();
    // Three hours a step: eight looks a day at the DMS's credentials, and the renewals and
    // tunnels judged from the cloud's own records, which time every event to the second.
    let step = 3 * HOUR;
    let mut looks_without_credentials = 0;
    for _ in 0..(28 * 24 / 3) {
        env.advance(step).await;
        if env.dms_credentials().stored().is_none() {
            looks_without_credentials += 1;
        }
    }
    let span = env.clock().unix_seconds() - started;
    let renewals = refresh_grants(&env)
        .into_iter()
        .filter(|(_, granted)| *granted)
        .count();
    let due = usize::try_from(span / spec.token.renew_every_seconds).unwrap_or(usize::MAX);
    ev.expect(
        "renewed-daily-at-the-cloud",
        "refresh grants the cloud answered with a new token in four weeks",
        renewals + 1 >= due,
        &format!(
            "one per {} s: at least {}",
            spec.token.renew_every_seconds,
            due - 1
        ),
        renewals,
    )?;
    let (gap, opened) = longest_gap(&env, &env.accounts().dms_id, env.clock().unix_seconds());
    ev.saw("tunnels the DMS opened in four weeks", opened);
    ev.expect_eq(
        "never-without-a-tunnel",
        "longest time without a tunnel on the cloud's record (s)",
        0,
        gap,
    )?;
    ev.expect_eq(
        "credentials-held-throughout",
        "looks (every 3 h) at which the DMS held no credentials",
        0,
        looks_without_credentials,
    )?;
    // The replaced tunnels drain and close on their own tasks, in real time: the cloud ends up
    // holding as many as the DMS kept open once connected, counted on its sockets then.
    let dms_id = &env.accounts().dms_id;
    if !env
        .cloud()
        .tunnels()
        .wait_live(dms_id, kept, PROMPTLY)
        .await
    {
        return Err(Failure::timeout(
            format!("the cloud to hold the {kept} tunnels the DMS keeps, the replaced ones closed"),
            PROMPTLY,
        ));
    }
    let live = env
        .cloud()
        .tunnels()
        .live()
        .iter()
        .filter(|t| t.dms_id == *dms_id)
        .count();
    ev.expect(
        "tunnel-up-at-the-end",
        "tunnels the cloud holds for the DMS at the end",
        live >= 1 && live == kept,
        &format!("the {kept} the DMS keeps"),
        live,
    )
}

pub(super) async fn refresh_key_works_once(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    steps::connect_dms(&env).await?;
    // A thief copies the DMS's credential file; the DMS then renews as usual.
    let stolen = env
        .dms_credentials()
        .stored()
        .ok_or_else(|| Failure::precondition("the connect flow", "credentials stored", "none"))?;
    let renewal = Duration::from_secs(spec.token.renew_every_seconds);
    steps::let_time_pass(&env, renewal + HOUR, 25).await;
    let renewed = env.dms_credentials().stored();
    let Some(renewed) = renewed.filter(|r| r.refresh_key != stolen.refresh_key) else {
        return Err(Failure::precondition(
            "the DMS's daily renewal",
            "a new refresh key in the credential file",
            env.cloud().issued(),
        ));
    };

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
        "replayed-refresh-key-refused",
        "replaying the used refresh key: HTTP status and error",
        (400, json!("invalid_grant")),
        (replay.status, replay.body["error"].clone()),
    )?;

    let current = thief
        .get_with_token(Endpoint::Connection, "api/dms/self", &renewed.access_token)
        .await?;
    ev.expect_eq(
        "family-token-revoked-after-replay",
        "the family's current token after the replay: HTTP status",
        401,
        current.status,
    )?;
    // The cloud closes the family's tunnels at once; both ends see it in real time.
    let dms_id = &env.accounts().dms_id;
    if !env.cloud().tunnels().wait_live(dms_id, 0, PROMPTLY).await {
        return Err(Failure::timeout(
            "the cloud to close the revoked family's tunnels",
            PROMPTLY,
        ));
    }
    if !steps::dms_let_go_of_tunnels(&env).await {
        return Err(Failure::timeout(
            "the DMS to drop its end of the closed tunnels",
            PROMPTLY,
        ));
    }
    steps::let_time_pass(&env, 2 * HOUR, 4).await;
    ev.expect_eq(
        "dms-dropped-revoked-credentials",
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
        "family-refresh-key-revoked-after-replay",
        "the family's current refresh key after the replay: HTTP status",
        400,
        next.status,
    )
}

pub(super) async fn rides_out_outages(ctx: Ctx) -> Result<(), Failure> {
    let spec = oracle::spec()?;
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let first = env
        .dms_credentials()
        .stored()
        .ok_or_else(|| Failure::precondition("the connect flow", "credentials stored", "none"))?;

    env.cloud().outage().set(Outage::ServerErrors);
    // Up to a minute before the daily renewal is due, then in ten-second steps through it.
    let renewal = Duration::from_secs(spec.token.renew_every_seconds);
    steps::let_time_pass(&env, renewal - Duration::from_secs(60), 24).await;
    steps::let_time_pass(&env, Duration::from_secs(900), 90).await;
    let attempts: Vec<u64> = refresh_grants(&env).into_iter().map(|(at, _)| at).collect();
    let gaps: Vec<u64> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    ev.saw(
        "seconds between refresh attempts while the cloud answers 500",
        &gaps,
    );
    ev.expect(
        "refresh-retried-during-500s",
        "refresh attempts the cloud received during the 500s",
        attempts.len() >= 3,
        "retries",
        attempts.len(),
    )?;
    let retry = spec.token.refresh_retry_seconds;
    ev.expect(
        "retries-back-off",
        "the retries back off",
        gaps.windows(2).all(|w| w[1] >= w[0]) && gaps.first().is_some_and(|g| *g >= retry),
        &format!("growing gaps from {retry} s"),
        &gaps,
    )?;

    env.cloud().outage().set(Outage::Down);
    steps::let_time_pass(&env, Duration::from_secs(600), 60).await;
    // Compared, never recorded: a report is shared widely and must not carry a live token.
    let kept = env.dms_credentials().stored().map(|c| c.access_token);
    ev.expect_eq(
        "token-kept-while-cloud-down",
        "the DMS still holds its first, still valid token during the outage",
        true,
        kept.as_deref() == Some(first.access_token.as_str()),
    )?;

    env.cloud().outage().set(Outage::Silent);
    // Every try on a hanging cloud costs the agent its network timeout in real time: a short
    // one while the cloud hangs, and only then (on a loaded machine, the same bound on every
    // exchange with a healthy cloud fails some of them).
    let usual = env.agent_network_timeout().get();
    env.agent_network_timeout().set(Duration::from_millis(250));
    let dialled = env.dms_egress().total().connections;
    steps::let_time_pass(&env, Duration::from_secs(600), 60).await;
    let tries = env.dms_egress().total().connections - dialled;
    ev.expect(
        "retried-while-cloud-hung",
        "connections the DMS tried while the cloud hung",
        tries > 0,
        "retries that time out",
        tries,
    )?;
    let kept = env.dms_credentials().stored().map(|c| c.access_token);
    ev.expect_eq(
        "token-kept-while-cloud-hung",
        "the DMS still holds its first token while the cloud hangs",
        true,
        kept.as_deref() == Some(first.access_token.as_str()),
    )?;

    env.cloud().outage().set(Outage::None);
    env.agent_network_timeout().set(usual);
    steps::let_time_pass(&env, Duration::from_secs(600), 60).await;
    let renewed = refresh_grants(&env).iter().any(|(_, granted)| *granted);
    ev.expect(
        "renewed-after-recovery",
        "after the cloud recovers: a refresh grant the cloud answered with a new token",
        renewed,
        "one",
        renewed,
    )?;
    let after = env.dms_credentials().stored().map(|c| c.access_token);
    ev.expect(
        "renewed-token-stored",
        "after the cloud recovers, the DMS holds",
        after.as_ref().is_some_and(|t| *t != first.access_token),
        "a renewed token",
        after.is_some(),
    )?;
    let (gap, _) = longest_gap(&env, &env.accounts().dms_id, env.clock().unix_seconds());
    ev.expect_eq(
        "never-without-a-tunnel",
        "longest time without a tunnel on the cloud's record (s)",
        0,
        gap,
    )
}
