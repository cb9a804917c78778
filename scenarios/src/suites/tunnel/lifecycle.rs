//! The agent's tunnels over time: several at once, replaced when the cloud kills them or when
//! they fall silent, and drained rather than cut when a renewal replaces them.

use std::time::Duration;

use mocks::Environment;
use mocks::agent::{NETWORK_TIMEOUT, TUNNELS};
use mocks::cloud::{Endpoint, next_chunk};

use super::{
    connected_with_sink, connected_with_sink_and, drain, drain_counting, fetch_small, open, sink,
};
use crate::steps::{self, PROMPTLY};
use crate::{Ctx, Evidence, Failure};

/// The agent's retry interval after a lost tunnel.
const RETRY: Duration = Duration::from_secs(10);
/// How often the agent pings its tunnels.
const KEEPALIVE: Duration = Duration::from_secs(30);
const DAY: Duration = Duration::from_secs(24 * 3600);
/// The agent's or the cloud's patience while its peer does not answer at all: every wait on a
/// peer that does not answer costs it in real time.
const HANGING: Duration = Duration::from_secs(1);
/// Requests sent one after the other to see how streams spread.
const SPREAD_REQUESTS: usize = 8;

/// The IDs of the DMS's live tunnels, as the cloud holds them.
fn live_ids(env: &Environment) -> Vec<u64> {
    let dms_id = &env.accounts().dms_id;
    env.cloud()
        .tunnels()
        .live()
        .into_iter()
        .filter(|t| &t.dms_id == dms_id)
        .map(|t| t.id)
        .collect()
}

/// The DMS holds `TUNNELS` tunnels, none of them one of `old`, and a small answer comes
/// through them.
async fn expect_replaced(
    env: &Environment,
    ev: &Evidence,
    old: &[u64],
    what: &str,
) -> Result<(), Failure> {
    let settled = env
        .cloud()
        .tunnels()
        .wait_live(&env.accounts().dms_id, TUNNELS, PROMPTLY)
        .await;
    let live = live_ids(env);
    ev.expect(
        what,
        settled && live.iter().all(|id| !old.contains(id)),
        &format!("{TUNNELS} new ones"),
        &live,
    )?;
    ev.expect_eq(
        "a small answer through the new tunnels",
        Ok(sink::SMALL.len()),
        fetch_small(env).await,
    )
}

pub(super) async fn killed_tunnel_fails_streams_and_agent_reconnects(
    ctx: Ctx,
) -> Result<(), Failure> {
    let (env, _sink) = connected_with_sink(&ctx).await?;
    let ev = ctx.evidence();
    let dms_id = env.accounts().dms_id.clone();
    let tunnels = env.cloud().tunnels();
    let first = live_ids(&env);
    let Some(answer) = open(&env, "/endless").await? else {
        return Err(Failure::expectation(
            "the head of an endless answer",
            "within a few seconds",
            "nothing",
        ));
    };
    let mut body = answer.into_body();
    first.iter().for_each(|id| tunnels.close(*id));
    let outcome = tokio::time::timeout(PROMPTLY, drain(&mut body)).await;
    ev.expect(
        "the stream in flight when the cloud killed the DMS's tunnels",
        matches!(outcome, Ok(Err(_))),
        "failed with an error, promptly",
        format!("{outcome:?}"),
    )?;
    let closed = tunnels.wait_live(&dms_id, 0, PROMPTLY).await;
    ev.expect("the killed tunnels", closed, "closed", tunnels.events())?;
    let let_go = steps::dms_let_go_of_tunnels(&env).await;
    ev.expect(
        "the DMS's ends of the killed tunnels",
        let_go,
        "closed",
        env.dms_egress().to(Endpoint::Tunnel.host()),
    )?;
    // Once the retry interval has passed, the agent dials again.
    env.advance(RETRY).await;
    expect_replaced(
        &env,
        &ev,
        &first,
        "tunnels the DMS holds after the retry interval",
    )
    .await
}

pub(super) async fn parallel_tunnels_share_the_streams(ctx: Ctx) -> Result<(), Failure> {
    let (env, _sink) = connected_with_sink(&ctx).await?;
    let ev = ctx.evidence();
    let tunnels = env.cloud().tunnels();
    let live = live_ids(&env);
    ev.expect(
        "tunnels the cloud holds for the DMS",
        live.len() >= 2,
        "several, in parallel",
        &live,
    )?;
    ev.expect_eq(
        "connections the DMS holds open to the tunnel endpoint",
        live.len() as u64,
        env.dms_egress().to(Endpoint::Tunnel.host()).open,
    )?;
    for _ in 0..SPREAD_REQUESTS {
        ev.expect_eq(
            "a small answer",
            Ok(sink::SMALL.len()),
            fetch_small(&env).await,
        )?;
    }
    let carried = tunnels.streams_carried();
    ev.expect(
        "streams each tunnel carried",
        live.iter()
            .all(|id| carried.get(id).is_some_and(|n| *n > 0)),
        "some on every tunnel",
        &carried,
    )?;

    // One tunnel is lost; without any time passing, the others carry every request.
    let (lost, kept) = live.split_at(1);
    tunnels.close(lost[0]);
    let dms_id = &env.accounts().dms_id;
    let dropped = tunnels.wait_live(dms_id, kept.len(), PROMPTLY).await;
    ev.expect("the lost tunnel", dropped, "closed", tunnels.events())?;
    let mut answered = 0;
    for _ in 0..SPREAD_REQUESTS {
        if fetch_small(&env).await == Ok(sink::SMALL.len()) {
            answered += 1;
        }
    }
    ev.expect_eq(
        "small answers while one tunnel is lost",
        SPREAD_REQUESTS,
        answered,
    )
}

pub(super) async fn silent_tunnel_dropped_and_redialled(ctx: Ctx) -> Result<(), Failure> {
    let mut options = ctx.options();
    // An unanswered ping costs the agent its ping timeout in real time: a short one. The
    // redials that follow keep the whole network timeout, as a loaded machine may need.
    options.agent_ping_timeout = Some(HANGING);
    let (env, _sink) = connected_with_sink_and(&ctx, options).await?;
    let ev = ctx.evidence();
    let tunnels = env.cloud().tunnels();
    let silent = live_ids(&env);
    let opened_before = tunnels.events().len();
    silent.iter().for_each(|id| tunnels.freeze(*id));
    env.advance(KEEPALIVE).await;
    // The silent tunnels stay on the cloud's record: the cloud stopped reading them.
    let replaced = tunnels
        .wait_live(&env.accounts().dms_id, silent.len() + TUNNELS, PROMPTLY)
        .await;
    ev.saw("tunnels the cloud saw after the pings", tunnels.events());
    ev.expect(
        "tunnels the DMS dialled after its pings went unanswered",
        replaced,
        &format!("{TUNNELS} new ones"),
        tunnels.events().len() - opened_before,
    )?;
    ev.expect_eq(
        "connections the DMS holds open to the tunnel endpoint",
        TUNNELS as u64,
        env.dms_egress().to(Endpoint::Tunnel.host()).open,
    )?;
    silent.iter().for_each(|id| tunnels.close(*id));
    let gone = tunnels
        .wait_live(&env.accounts().dms_id, TUNNELS, PROMPTLY)
        .await;
    ev.expect(
        "the silent tunnels, closed by the cloud",
        gone,
        "gone",
        tunnels.events(),
    )?;
    ev.expect_eq(
        "a small answer through the new tunnels",
        Ok(sink::SMALL.len()),
        fetch_small(&env).await,
    )
}

pub(super) async fn renewal_drains_streams_in_flight(ctx: Ctx) -> Result<(), Failure> {
    let (env, _sink) = connected_with_sink(&ctx).await?;
    let ev = ctx.evidence();
    let old = live_ids(&env);
    let Some(large) = open(&env, "/large").await? else {
        return Err(Failure::expectation(
            "the head of the large answer",
            "within a few seconds",
            "nothing",
        ));
    };
    let mut large = large.into_body();
    let mut read = match next_chunk(&mut large).await {
        Ok(Some(chunk)) => chunk.len(),
        other => {
            return Err(Failure::expectation(
                "the first bytes of the large answer",
                "a chunk",
                format!("{other:?}"),
            ));
        }
    };
    // The daily renewal is due: the agent renews and replaces its tunnels.
    env.advance(DAY).await;
    let renewed = env
        .cloud()
        .issued()
        .iter()
        .any(|i| i.grant == "refresh_token");
    ev.expect_eq("the DMS renewed its token", true, renewed)?;
    let rest = tokio::time::timeout(PROMPTLY, drain_counting(&mut large, &mut read)).await;
    let rest = rest.unwrap_or_else(|_| Err("stalled".into()));
    ev.expect(
        "the large answer under way during the renewal",
        rest.is_ok() && read == sink::LARGE,
        &format!("all {} bytes, without an error", sink::LARGE),
        format!("{read} bytes, then {rest:?}"),
    )?;
    expect_replaced(
        &env,
        &ev,
        &old,
        "the DMS's tunnels once the old ones drained",
    )
    .await
}

pub(super) async fn partition_detected_on_both_sides(ctx: Ctx) -> Result<(), Failure> {
    let mut options = ctx.options();
    // Unanswered pings cost both sides their timeouts in real time: short ones here.
    options.agent_ping_timeout = Some(HANGING);
    options.cloud_ping_timeout = Some(HANGING);
    let (env, _sink) = connected_with_sink_and(&ctx, options).await?;
    let ev = ctx.evidence();
    let tunnels = env.cloud().tunnels();
    let dms_id = env.accounts().dms_id.clone();
    let before = live_ids(&env);

    // The DMS's network drops everything, its sockets' ends included, without a word. The
    // agent's dials hang as long as it does, each for the agent's network timeout in real
    // time: a short one while the partition lasts, and only then.
    env.agent_network_timeout().set(HANGING);
    env.dms_egress().partition().set(true);
    env.advance(KEEPALIVE).await;
    let dropped = tunnels.wait_live(&dms_id, 0, PROMPTLY).await;
    ev.expect(
        "the DMS's tunnels on the cloud while the DMS is cut off",
        dropped,
        "closed by the cloud: its pings went unanswered",
        tunnels.events(),
    )?;
    let refused = fetch_small(&env).await;
    ev.expect(
        "a request to the DMS while it is cut off",
        matches!(&refused, Err(e) if e.contains("no live tunnel")),
        "refused at once: no live tunnel",
        &refused,
    )?;

    env.dms_egress().partition().set(false);
    env.agent_network_timeout().set(NETWORK_TIMEOUT);
    // Healed: within its redial backoff the DMS is back.
    steps::let_time_pass(&env, Duration::from_secs(60), 60).await;
    expect_replaced(
        &env,
        &ev,
        &before,
        "the DMS's tunnels once the partition healed",
    )
    .await
}
