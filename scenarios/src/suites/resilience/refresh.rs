//! The refresh endpoint fails for hours of simulated time, every way a network and a server
//! can: connections reset, connections that hang and then close, HTTP 500s.

use std::time::Duration;

use mocks::cloud::{CloudRequest, Endpoint, Outage, TunnelEvent};
use mocks::world::net::{Direction, Toxic};
use mocks::{Environment, Hop};
use serde_json::Value;

use crate::steps;
use crate::{Ctx, Failure, oracle};

const HOUR: Duration = Duration::from_secs(3600);
/// A hanging connection is closed by the network this long after it opened: real time, short.
const HANG: Duration = Duration::from_millis(200);

pub(super) async fn outage_keeps_the_valid_token(ctx: Ctx) -> Result<(), Failure> {
    let spec = oracle::spec()?;
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let first = env
        .dms_credentials()
        .stored()
        .ok_or_else(|| Failure::precondition("the connect flow", "credentials stored", "none"))?;
    let expires = first.obtained_at_unix + spec.token.lifetime_seconds;
    let dms_id = env.accounts().dms_id.clone();
    let toxics = env
        .hop(Hop::DmsToCloud(Endpoint::Connection))
        .ok_or_else(|| Failure::Harness("no toxics on the DMS's hop to the cloud".into()))?;

    // Up to a minute before the daily renewal is due, then the refresh endpoint fails.
    let renewal = Duration::from_secs(spec.token.renew_every_seconds);
    steps::let_time_pass(&env, renewal - Duration::from_secs(60), 24).await;
    let outage_from = env.clock().unix_seconds();
    let connection_host = &spec.hosts.connection;
    let dialled = || env.dms_egress().to(connection_host).connections;
    let before = dialled();
    toxics.add_both(Toxic::ResetPeer {
        after: Duration::ZERO,
    });
    steps::let_time_pass(&env, HOUR, 60).await;
    toxics.clear();
    ev.saw(
        "connections the DMS tried to the refresh endpoint while they were reset",
        dialled() - before,
    );
    let before = dialled();
    toxics.add(
        Direction::Upstream,
        Toxic::Timeout {
            close_after: Some(HANG),
        },
    );
    steps::let_time_pass(&env, HOUR, 60).await;
    toxics.clear();
    ev.saw(
        "connections the DMS tried to the refresh endpoint while they hung",
        dialled() - before,
    );
    env.cloud().outage().set(Outage::ServerErrors);
    steps::let_time_pass(&env, HOUR, 60).await;
    env.cloud().outage().set(Outage::None);
    let recovered = env.clock().unix_seconds();
    steps::let_time_pass(&env, Duration::from_secs(600), 60).await;

    let grants = refresh_grants(&env);
    ev.saw(
        "refresh grants the cloud answered 500 during the outage",
        grants.iter().filter(|r| r.status == 500).count(),
    );
    let renewed = grants.iter().find(|r| {
        r.at_unix >= recovered && r.status == 200 && r.response.contains("\"access_token\"")
    });
    ev.expect(
        "refresh-granted-after-recovery",
        "a refresh grant the cloud answered with a new token once it was back",
        renewed.is_some(),
        "one, within the backoff cap",
        renewed.map(|r| r.at_unix - recovered),
    )?;
    let renewed_at = renewed.map_or(u64::MAX, |r| r.at_unix);
    ev.expect(
        "renewed-before-expiry",
        "seconds of the first token's life left when it was renewed",
        renewed_at < expires,
        "some",
        expires.saturating_sub(renewed_at),
    )?;
    let issued = renewed
        .and_then(|r| serde_json::from_str::<Value>(&r.response).ok())
        .and_then(|answer| answer["access_token"].as_str().map(str::to_owned));
    // Compared, never recorded: a report is shared widely and must not carry a live token.
    let stored = env.dms_credentials().stored().map(|c| c.access_token);
    ev.expect_eq(
        "dms-stores-the-renewed-token",
        "the DMS's credential file holds the token the cloud answered the grant with",
        true,
        issued.is_some() && stored == issued,
    )?;
    let closed_during: Vec<u64> = env
        .cloud()
        .tunnels()
        .events()
        .into_iter()
        .filter_map(|e| match e {
            TunnelEvent::Closed {
                dms_id: d, at_unix, ..
            } if d == dms_id && (outage_from..recovered).contains(&at_unix) => Some(at_unix),
            _ => None,
        })
        .collect();
    ev.expect(
        "tunnels-held-through-the-outage",
        "tunnels of the DMS the cloud saw close while the refresh endpoint failed",
        closed_during.is_empty(),
        "none",
        &closed_during,
    )?;
    let upgrades_with_other_tokens = env
        .cloud()
        .requests()
        .all()
        .iter()
        .filter(|r| r.endpoint == Endpoint::Tunnel.host())
        .filter(|r| (outage_from..recovered).contains(&r.at_unix))
        .filter(|r| r.bearer() != Some(first.access_token.as_str()))
        .count();
    ev.expect_eq(
        "upgrades-during-the-outage-carry-the-first-token",
        "tunnel upgrades during the outage that presented anything but what the DMS held when it began",
        0,
        upgrades_with_other_tokens,
    )
}

/// The refresh grants the cloud received, in order: from its request record.
fn refresh_grants(env: &Environment) -> Vec<CloudRequest> {
    env.cloud()
        .requests()
        .all()
        .into_iter()
        .filter(|r| r.path.starts_with("/oauth/token") && r.body.contains("refresh_token"))
        .collect()
}
