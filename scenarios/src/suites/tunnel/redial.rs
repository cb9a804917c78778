//! Redialling a failing tunnel endpoint: the gaps between the agent's attempts grow, stop at a
//! cap, and carry jitter so that DMSes cut off together do not come back in lockstep.

use std::time::Duration;

use mocks::cloud::Outage;

use super::connected_with_sink;
use crate::steps::{self, PROMPTLY};
use crate::{Ctx, Failure, oracle};

/// The agent's first retry interval and the cap of its backoff.
const RETRY: u64 = 10;
const RETRY_CAP: u64 = 300;
/// How long the tunnel endpoint fails: long enough for the backoff to reach its cap.
const OUTAGE: Duration = Duration::from_secs(1000);

/// The backoff before jitter after the `n`-th failure in a row (from 1).
fn nominal(n: usize) -> u64 {
    (RETRY << (n - 1).min(10)).min(RETRY_CAP)
}

pub(super) async fn backs_off_with_jitter(ctx: Ctx) -> Result<(), Failure> {
    let (env, _sink) = connected_with_sink(&ctx).await?;
    let ev = ctx.evidence();
    let tunnels = env.cloud().tunnels();
    let dms_id = env.accounts().dms_id.clone();
    let tunnel_host = &oracle::spec()?.hosts.tunnel;
    let held = env.dms_egress().to(tunnel_host).open;
    env.cloud().outage().set(Outage::ServerErrors);
    let cut_at = env.clock().unix_seconds();
    for t in tunnels.live() {
        tunnels.close(t.id);
    }
    if !steps::dms_let_go_of_tunnels(&env).await {
        return Err(Failure::timeout(
            "the DMS to close its ends of the closed tunnels",
            PROMPTLY,
        ));
    }
    // Second by second, so every attempt is seen at the second it was made.
    steps::let_time_pass(&env, OUTAGE, OUTAGE.as_secs() as u32).await;
    let attempts: Vec<u64> = env
        .cloud()
        .requests()
        .all()
        .iter()
        .filter(|r| r.endpoint == *tunnel_host && r.at_unix > cut_at)
        .map(|r| r.at_unix)
        .collect();
    let gaps: Vec<u64> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    ev.saw("seconds between the DMS's tunnel dials", &gaps);
    ev.expect(
        "tunnel-dials-while-endpoint-fails",
        "tunnel dials while the endpoint fails",
        gaps.len() >= 6,
        "a handful, backing off",
        attempts.len(),
    )?;
    // Equal jitter: each wait lies between half the nominal backoff and all of it.
    let in_band: Vec<bool> = gaps
        .iter()
        .enumerate()
        .map(|(i, gap)| (nominal(i + 1) / 2..=nominal(i + 1)).contains(gap))
        .collect();
    ev.expect(
        "each-wait-within-backoff-band",
        "each wait within its backoff band",
        in_band.iter().all(|ok| *ok),
        "10 s doubling up to 300 s, less at most half",
        &gaps,
    )?;
    let lockstep = gaps
        .iter()
        .enumerate()
        .all(|(i, gap)| *gap == nominal(i + 1));
    ev.expect(
        "waits-carry-jitter",
        "the waits carry jitter",
        !lockstep,
        "some shorter than the nominal backoff",
        &gaps,
    )?;

    env.cloud().outage().set(Outage::None);
    steps::let_time_pass(&env, Duration::from_secs(RETRY_CAP), RETRY_CAP as u32).await;
    // The agent dials on the clock's ticks and settles before each advance returns: what its
    // sockets hold now is what it dialled.
    ev.expect_eq(
        "dms-redials-within-the-backoff-cap",
        "connections the DMS holds to the tunnel endpoint once it recovers",
        held,
        env.dms_egress().to(tunnel_host).open,
    )?;
    if !tunnels.wait_live(&dms_id, held as usize, PROMPTLY).await {
        return Err(Failure::timeout(
            "the cloud to register the redialled tunnels",
            PROMPTLY,
        ));
    }
    Ok(())
}
