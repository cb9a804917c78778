//! The agent's tunnels over time: several at once, replaced when the cloud kills them or when
//! they fall silent, and drained rather than cut when a renewal replaces them.

use std::time::Duration;

use mocks::Environment;
use mocks::cloud::next_chunk;

use super::{
    connected_with_sink, connected_with_sink_and, drain, drain_counting, fetch_small, open, sink,
};
use crate::steps::{self, PROMPTLY};
use crate::{Check, Ctx, Evidence, Failure, oracle};

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

/// What the DMS's sockets to the tunnel endpoint show: connections ever opened, open now.
fn dms_tunnel_sockets(env: &Environment) -> Result<(u64, u64), Failure> {
    let counters = env.dms_egress().to(&oracle::spec()?.hosts.tunnel);
    Ok((counters.connections, counters.open))
}

/// Check `check`, judged on the DMS's own sockets right after the agent acted on the clock:
/// it dialled `wanted` new tunnels since `opened_before` and holds `wanted` open. Then, once
/// the cloud holds them in place of `old`, a small answer comes through them.
async fn expect_redialled(
    env: &Environment,
    ev: &Evidence,
    check: Check,
    what: &str,
    (opened_before, wanted): (u64, u64),
    old: &[u64],
) -> Result<(), Failure> {
    let (opened, open) = dms_tunnel_sockets(env)?;
    ev.expect_eq(
        check,
        what,
        (wanted, wanted),
        (opened - opened_before, open),
    )?;
    let registered = env
        .cloud()
        .tunnels()
        .wait_live(&env.accounts().dms_id, wanted as usize, PROMPTLY)
        .await;
    if !registered {
        return Err(Failure::timeout(
            format!("the cloud to hold the {wanted} redialled tunnels"),
            PROMPTLY,
        ));
    }
    let live = live_ids(env);
    ev.expect(
        "old-tunnels-replaced",
        "the tunnels the cloud holds for the DMS",
        live.iter().all(|id| !old.contains(id)),
        "none of the old ones",
        &live,
    )?;
    ev.expect_eq(
        "small-answer-through-new-tunnels",
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
    let answer = open(&env, "/endless").await?;
    let mut body = answer.into_body();
    first.iter().for_each(|id| tunnels.close(*id));
    let Ok(outcome) = tokio::time::timeout(PROMPTLY, drain(&mut body)).await else {
        return Err(Failure::timeout(
            "the stream in flight to end once its tunnel was killed",
            PROMPTLY,
        ));
    };
    ev.expect(
        "stream-on-a-killed-tunnel-fails",
        "the stream in flight when the cloud killed the DMS's tunnels",
        outcome.is_err(),
        "failed with an error",
        format!("{outcome:?}"),
    )?;
    if !(tunnels.wait_live(&dms_id, 0, PROMPTLY).await && steps::dms_let_go_of_tunnels(&env).await)
    {
        return Err(Failure::timeout(
            "both ends of the killed tunnels to close",
            PROMPTLY,
        ));
    }
    let (opened_before, _) = dms_tunnel_sockets(&env)?;
    // Once the retry interval has passed, the agent dials again.
    env.advance(RETRY).await;
    expect_redialled(
        &env,
        &ev,
        "agent-redials-killed-tunnels",
        "tunnels the DMS dialled and holds after the retry interval",
        (opened_before, first.len() as u64),
        &first,
    )
    .await
}

pub(super) async fn parallel_tunnels_share_the_streams(ctx: Ctx) -> Result<(), Failure> {
    let (env, _sink) = connected_with_sink(&ctx).await?;
    let ev = ctx.evidence();
    let tunnels = env.cloud().tunnels();
    let (_, open) = dms_tunnel_sockets(&env)?;
    ev.expect(
        "dms-holds-several-tunnels",
        "connections the DMS holds open to the tunnel endpoint",
        open >= 2,
        "several, in parallel",
        open,
    )?;
    let live = live_ids(&env);
    ev.expect_eq(
        "cloud-holds-every-tunnel-the-dms-opened",
        "tunnels the cloud holds for the DMS",
        open as usize,
        live.len(),
    )?;
    for _ in 0..SPREAD_REQUESTS {
        ev.expect_eq(
            "small-answer",
            "a small answer",
            Ok(sink::SMALL.len()),
            fetch_small(&env).await,
        )?;
    }
    let carried = tunnels.streams_carried();
    ev.expect(
        "streams-each-tunnel-carried",
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
    if !tunnels.wait_live(dms_id, kept.len(), PROMPTLY).await {
        return Err(Failure::timeout("the lost tunnel to close", PROMPTLY));
    }
    let mut answered = 0;
    for _ in 0..SPREAD_REQUESTS {
        if fetch_small(&env).await == Ok(sink::SMALL.len()) {
            answered += 1;
        }
    }
    ev.expect_eq(
        "small-answers-while-one-tunnel-lost",
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
    let (opened_before, _) = dms_tunnel_sockets(&env)?;
    silent.iter().for_each(|id| tunnels.freeze(*id));
    // The agent pings on this tick and waits for the pongs before it settles: what its sockets
    // show after the advance is what it did about the silence.
    env.advance(KEEPALIVE).await;
    ev.saw("tunnels the cloud saw after the pings", tunnels.events());
    let (opened, open) = dms_tunnel_sockets(&env)?;
    ev.expect_eq(
        "agent-replaces-silent-tunnels",
        "tunnels the DMS dialled, and holds open, after its pings went unanswered",
        (silent.len() as u64, silent.len() as u64),
        (opened - opened_before, open),
    )?;
    // The silent tunnels stay on the cloud's record (it stopped reading them) until closed.
    silent.iter().for_each(|id| tunnels.close(*id));
    if !tunnels
        .wait_live(&env.accounts().dms_id, silent.len(), PROMPTLY)
        .await
    {
        return Err(Failure::timeout(
            "the cloud to hold the redialled tunnels in place of the silent ones",
            PROMPTLY,
        ));
    }
    ev.expect_eq(
        "small-answer-through-new-tunnels",
        "a small answer through the new tunnels",
        Ok(sink::SMALL.len()),
        fetch_small(&env).await,
    )
}

pub(super) async fn renewal_drains_streams_in_flight(ctx: Ctx) -> Result<(), Failure> {
    let (env, _sink) = connected_with_sink(&ctx).await?;
    let ev = ctx.evidence();
    let old = live_ids(&env);
    let large = open(&env, "/large").await?;
    let mut large = large.into_body();
    let mut read = match next_chunk(&mut large).await {
        Ok(Some(chunk)) => chunk.len(),
        other => {
            return Err(Failure::violation(
                "first-bytes-large-answer",
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
    ev.expect_eq(
        "dms-renewed-token",
        "the DMS renewed its token",
        true,
        renewed,
    )?;
    let Ok(rest) = tokio::time::timeout(PROMPTLY, drain_counting(&mut large, &mut read)).await
    else {
        return Err(Failure::timeout(
            "the rest of the large answer under way during the renewal",
            PROMPTLY,
        ));
    };
    ev.expect(
        "streams-in-flight-survive-the-renewal",
        "the large answer under way during the renewal",
        rest.is_ok() && read == sink::LARGE,
        &format!("all {} bytes, without an error", sink::LARGE),
        format!("{read} bytes, then {rest:?}"),
    )?;
    let registered = env
        .cloud()
        .tunnels()
        .wait_live(&env.accounts().dms_id, old.len(), PROMPTLY)
        .await;
    if !registered {
        return Err(Failure::timeout(
            "the cloud to hold the renewed tunnels alone",
            PROMPTLY,
        ));
    }
    let live = live_ids(&env);
    ev.expect(
        "old-tunnels-replaced",
        "the tunnels the cloud holds for the DMS after the renewal",
        live.iter().all(|id| !old.contains(id)),
        "none of the old ones",
        &live,
    )?;
    ev.expect_eq(
        "small-answer-through-new-tunnels",
        "a small answer through the new tunnels",
        Ok(sink::SMALL.len()),
        fetch_small(&env).await,
    )
}

pub(super) async fn partition_detected_on_both_sides(ctx: Ctx) -> Result<(), Failure> {
    let mut options = ctx.options();
    // Unanswered pings cost both sides their timeouts in real time: short ones here.
    options.agent_ping_timeout = Some(HANGING);
    options.cloud_ping_timeout = Some(HANGING);
    let (env, _sink) = connected_with_sink_and(&ctx, options).await?;
    let ev = ctx.evidence();
    let tunnels = env.cloud().tunnels();
    let before = live_ids(&env);

    // The DMS's network drops everything, its sockets' ends included, without a word. The
    // agent's dials hang as long as it does, each for the agent's network timeout in real
    // time: a short one while the partition lasts, and only then.
    let usual = env.agent_network_timeout().get();
    env.agent_network_timeout().set(HANGING);
    env.dms_egress().partition().set(true);
    // Both ends ping on this tick; the advance returns once the agent and the cloud have each
    // waited for their pongs and acted on the silence.
    env.advance(KEEPALIVE).await;
    let left = live_ids(&env);
    ev.expect(
        "cloud-closes-tunnels-of-a-silent-dms",
        "the DMS's tunnels on the cloud while the DMS is cut off",
        left.is_empty(),
        "closed by the cloud: its pings went unanswered",
        tunnels.events(),
    )?;
    let refused = fetch_small(&env).await;
    ev.expect(
        "request-dms-while-cut-off",
        "a request to the DMS while it is cut off",
        matches!(&refused, Err(e) if e.contains("no live tunnel")),
        "refused at once: no live tunnel",
        &refused,
    )?;

    let (opened_before, _) = dms_tunnel_sockets(&env)?;
    env.dms_egress().partition().set(false);
    env.agent_network_timeout().set(usual);
    // Healed: within its redial backoff the DMS is back.
    steps::let_time_pass(&env, Duration::from_secs(60), 60).await;
    expect_redialled(
        &env,
        &ev,
        "dms-back-once-the-partition-heals",
        "tunnels the DMS dialled and holds once the partition healed",
        (opened_before, before.len() as u64),
        &before,
    )
    .await
}
