//! The DMS side slow or down behind a healthy tunnel: a slow DMA still answers, an unreachable
//! WAF or DMA is a clear 502 to the caller, and the tunnel carries on as if nothing happened.

use std::time::Duration;

use mocks::Hop;
use mocks::cloud::TunnelEvent;
use mocks::world::net::{Direction, Toxic};
use serde_json::json;

use super::viewer::{connect_app, viewer_call};
use crate::steps;
use crate::{Ctx, Failure};

/// The DMA's extra delay on every answer: real time, small.
const SLOW: Duration = Duration::from_millis(300);

pub(super) async fn down_is_a_clear_bad_gateway(ctx: Ctx) -> Result<(), Failure> {
    let mut options = ctx.options();
    options.proxied_hops = true;
    let env = ctx.environment_with(options).await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let dms_id = env.accounts().dms_id.clone();
    let live_before = env.cloud().tunnels().live().len();
    let connection = connect_app(&env).await?;
    let read =
        json!({ "connection": connection, "dmaID": 2000, "elementID": 100, "parameterID": 1001 });
    let hop = |hop: Hop| {
        env.hop(hop)
            .ok_or_else(|| Failure::Harness(format!("no toxics on {hop:?}")))
    };
    let (to_waf, to_dma) = (hop(Hop::AgentToWaf)?, hop(Hop::WafToDma)?);
    let healthy = viewer_call(&env, "GetParameter", &read).await?;

    to_dma.add(
        Direction::Downstream,
        Toxic::Latency {
            delay: SLOW,
            jitter: Duration::from_millis(50),
        },
    );
    let slow = viewer_call(&env, "GetParameter", &read).await?;
    to_dma.clear();
    ev.expect_eq(
        "slow-dma-still-answers",
        "what the viewer got from a slow DMA",
        healthy.clone(),
        slow,
    )?;

    let reset = Toxic::ResetPeer {
        after: Duration::ZERO,
    };
    to_dma.add_both(reset);
    let dma_down = viewer_call(&env, "GetParameter", &read).await?;
    to_dma.clear();
    ev.expect_eq(
        "dma-down-is-a-bad-gateway",
        "the viewer's HTTP status while the DMA is unreachable",
        Ok(502),
        dma_down.map(|(status, _)| status),
    )?;
    to_waf.add_both(reset);
    let waf_down = viewer_call(&env, "GetParameter", &read).await?;
    to_waf.clear();
    ev.expect_eq(
        "dms-side-down-is-a-bad-gateway",
        "the viewer's HTTP status while the agent cannot reach the WAF",
        Ok(502),
        waf_down.map(|(status, _)| status),
    )?;

    let recovered = viewer_call(&env, "GetParameter", &read).await?;
    ev.expect_eq(
        "answers-again-once-the-dms-side-is-back",
        "what the viewer gets once the DMS side is back",
        healthy,
        recovered,
    )?;
    let closed = env
        .cloud()
        .tunnels()
        .events()
        .iter()
        .filter(|e| matches!(e, TunnelEvent::Closed { dms_id: d, .. } if *d == dms_id))
        .count();
    ev.expect_eq(
        "tunnel-stays-up",
        "tunnels of the DMS the cloud saw close while the DMS side was down",
        0,
        closed,
    )?;
    ev.expect_eq(
        "tunnels-held-as-before",
        "tunnels the cloud holds for the DMS at the end",
        live_before,
        env.cloud().tunnels().live().len(),
    )
}
