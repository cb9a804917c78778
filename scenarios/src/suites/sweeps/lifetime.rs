//! Issuing paths × lifetime (TOK-3): every way the cloud issues a token gives exp − iat of
//! exactly the spec's week, judged on the tokens the DMSs received; the grants the cloud says
//! it issued by are enumerated, so a new issuing path unswept here fails. A tunnel opened on a
//! token ends when that token does, on the cloud's own tunnel record.

use std::collections::BTreeSet;
use std::time::Duration;

use mocks::Environment;
use mocks::cloud::Outage;
use serde_json::Value;

use super::enrol::enrol;
use crate::{Ctx, Failure, oracle, steps};

const DIMENSION: &str = "issuing paths × lifetime";

/// How long the cloud may take to close a tunnel once the clock passed its token's end.
const CLOSE_BOUND: Duration = Duration::from_secs(10);

/// `exp - iat` of a token as the DMS received it.
fn lifetime_of(token: &str) -> Option<u64> {
    let (_, claims) = probes::jwt::decode_unverified(token)?;
    let field = |name: &str| claims.get(name).and_then(Value::as_u64);
    field("exp")?.checked_sub(field("iat")?)
}

fn stored_token(env: &Environment) -> Result<String, Failure> {
    env.dms_credentials()
        .stored()
        .map(|c| c.access_token)
        .ok_or_else(|| Failure::precondition("the DMS's credentials", "stored", "none"))
}

pub(super) async fn every_issuing_path_gives_one_week(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let week = spec.token.lifetime_seconds;
    let mut wrong = Vec::new();
    // The grants (RFC 8628 §3.4 and RFC 6749 §6 names) each path below exercises.
    let mut swept: BTreeSet<&str> = BTreeSet::new();
    let mut judge = |path: &str, grant: &'static str, token: &str| {
        let lifetime = lifetime_of(token);
        ev.row(
            DIMENSION,
            path,
            "exp − iat of the token received",
            match lifetime {
                Some(s) if s == week => format!("{s} s"),
                Some(s) => format!("WRONG: {s} s"),
                None => "WRONG: no exp/iat".to_owned(),
            },
        );
        if lifetime != Some(week) {
            wrong.push(format!("{path}: {lifetime:?}"));
        }
        swept.insert(grant);
    };

    steps::connect_dms(&env).await?;
    let first = stored_token(&env)?;
    judge(
        "the agent's connect flow (device_code)",
        "device_code",
        &first,
    );

    let admin = env.accounts().cloud_admin.clone();
    let played = enrol(&env, "dms-sweep-lifetime", &admin).await?;
    judge(
        "a DMS's connect flow (device_code)",
        "device_code",
        &played.access_token,
    );
    let renewed = played.dms.refresh(&played.refresh_key).await?;
    let renewed = renewed
        .field("access_token")
        .ok_or_else(|| Failure::precondition("the refresh grant", "a new token", renewed.status))?;
    judge(
        "a DMS's refresh grant (refresh_token)",
        "refresh_token",
        &renewed,
    );

    // The agent renews on its own schedule: a day and a bit later its token is a new one.
    steps::let_time_pass(&env, Duration::from_secs(25 * 3600), 25).await;
    let daily = stored_token(&env)?;
    if daily == first {
        return Err(Failure::precondition(
            "the agent's daily renewal",
            "a new token after 25 hours",
            "the same token",
        ));
    }
    judge(
        "the agent's daily renewal (refresh_token)",
        "refresh_token",
        &daily,
    );

    // Every grant the cloud issued by is one of the paths above.
    let issued_by: BTreeSet<&str> = env.cloud().issued().iter().map(|i| i.grant).collect();
    let unswept: Vec<&str> = issued_by.difference(&swept).copied().collect();
    ev.saw("grants the cloud issued tokens by", &issued_by);
    ev.expect_eq(
        "every-issuing-path-swept",
        "grants the cloud issued by that the sweep did not judge",
        Vec::<&str>::new(),
        unswept,
    )?;
    ev.expect_eq(
        "every-issued-token-lives-one-week",
        "tokens whose exp − iat is not the spec's week",
        Vec::<String>::new(),
        wrong,
    )?;

    // The cloud answers nothing but errors from now on: the agent cannot renew, keeps its
    // token and its tunnels, and the token runs out while they are up.
    if !steps::tunnels_up(&env).await.is_ok_and(|n| n > 0) {
        return Err(Failure::precondition("the DMS's tunnels", "up", "none"));
    }
    let dms_id = env.accounts().dms_id.clone();
    let held = stored_token(&env)?;
    let exp = probes::jwt::decode_unverified(&held)
        .and_then(|(_, c)| c.get("exp").and_then(Value::as_u64))
        .ok_or_else(|| Failure::precondition("the held token's exp", "a number", held.len()))?;
    env.cloud().outage().set(Outage::ServerErrors);
    let past = exp + spec.token.clock_skew_allowance_seconds + 3600;
    let now = env.clock().unix_seconds();
    steps::let_time_pass(&env, Duration::from_secs(past.saturating_sub(now)), 7 * 24).await;
    let tunnels = env.cloud().tunnels();
    tunnels
        .settle(env.clock().unix_seconds(), CLOSE_BOUND)
        .await;
    tunnels.wait_live(&dms_id, 0, CLOSE_BOUND).await;
    let outliving: Vec<u64> = tunnels
        .live()
        .iter()
        .filter(|t| t.dms_id == dms_id)
        .map(|t| t.id)
        .collect();
    env.cloud().outage().set(Outage::None);
    ev.row(
        DIMENSION,
        "the agent's tunnels, on a token that ran out",
        "an hour past exp + skew, the cloud's tunnel record",
        if outliving.is_empty() {
            "closed".to_owned()
        } else {
            format!("STILL OPEN: {outliving:?}")
        },
    );
    ev.expect_eq(
        "no-tunnel-outlives-its-token",
        "tunnels the cloud still holds for the DMS after its token ended",
        Vec::<u64>::new(),
        outliving,
    )
}
