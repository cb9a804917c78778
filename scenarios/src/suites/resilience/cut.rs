//! The tunnel cut mid-transfer, and an answer lost between the agent and the DMS side: the
//! viewer's read fails with an error rather than hanging or passing short, the agent dials its
//! tunnels again, and a write is never executed twice.

use std::time::Duration;

use mocks::cloud::Endpoint;
use mocks::world::net::{Direction, Toxic};
use mocks::{Environment, Hop};
use serde_json::json;

use super::viewer::{call, connect_app};

use crate::steps::{self, PROMPTLY};
use crate::{Ctx, Failure, oracle};

fn hop(env: &Environment, hop: Hop) -> Result<mocks::world::net::Toxics, Failure> {
    env.hop(hop)
        .ok_or_else(|| Failure::Harness(format!("no toxics on {hop:?}")))
}

pub(super) async fn cut_mid_transfer(ctx: Ctx) -> Result<(), Failure> {
    let spec = oracle::spec()?;
    let mut options = ctx.options();
    options.proxied_hops = true;
    let env = ctx.environment_with(options).await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let tunnel_host = &spec.hosts.tunnel;
    let held = env.dms_egress().to(tunnel_host).open;
    let connection = connect_app(&env).await?;

    // A read under way: its answer is held on the DMS side when the tunnel is reset.
    let to_waf = hop(&env, Hop::AgentToWaf)?;
    to_waf.add(Direction::Downstream, Toxic::Timeout { close_after: None });
    let read =
        json!({ "connection": connection, "dmaID": 2000, "elementID": 100, "parameterID": 1001 });
    let in_flight = call(&env, "GetParameter", &read);
    let to_cloud = hop(&env, Hop::DmsToCloud(Endpoint::Tunnel))?;
    let cutting = async {
        // Long enough for the request to reach the DMS side; the answer stays held there.
        tokio::time::sleep(Duration::from_millis(100)).await;
        to_cloud.add_both(Toxic::ResetPeer {
            after: Duration::ZERO,
        });
    };
    let (read_result, ()) = tokio::join!(tokio::time::timeout(PROMPTLY, in_flight), cutting);
    let Ok(read_result) = read_result else {
        return Err(Failure::timeout(
            "the viewer's read through the reset tunnel to end",
            PROMPTLY,
        ));
    };
    ev.expect(
        "in-flight-read-fails-cleanly",
        "the viewer's read through the tunnel that was reset",
        read_result.is_err(),
        "an error, not an answer",
        read_result.as_ref().map(|(status, _)| *status),
    )?;
    if !steps::dms_let_go_of_tunnels(&env).await {
        return Err(Failure::timeout(
            "the DMS to drop its reset tunnels",
            PROMPTLY,
        ));
    }
    to_cloud.clear();
    to_waf.clear();
    let cap = Duration::from_secs(300);
    steps::let_time_pass(&env, cap, 30).await;
    ev.expect_eq(
        "agent-redials-after-the-cut",
        "connections the DMS holds to the tunnel endpoint after the backoff",
        held,
        env.dms_egress().to(tunnel_host).open,
    )?;
    steps::tunnels_up(&env).await?;

    // A write whose answer is lost between the DMS side and the agent.
    to_waf.add(Direction::Downstream, Toxic::LimitData { bytes: 1 });
    let from = env.dma().executed().len();
    let write = json!({
        "connection": connection, "dmaID": 2000, "elementID": 101, "parameterID": 2001, "value": "4242",
    });
    let written = tokio::time::timeout(PROMPTLY, call(&env, "SetParameter", &write))
        .await
        .map_err(|_| Failure::timeout("the answer to the SetParameter", PROMPTLY))?;
    to_waf.clear();
    let sets = env
        .dma()
        .executed()
        .since(from)
        .iter()
        .filter(|c| c.method == "SetParameter" && c.connection == connection)
        .count();
    ev.expect_eq(
        "write-executed-once",
        "times the DMA executed the SetParameter whose answer was lost",
        1,
        sets,
    )?;
    ev.expect_eq(
        "lost-answer-is-a-bad-gateway",
        "what the viewer got for the write whose answer was lost: HTTP status",
        Ok(502),
        written.map(|(status, _)| status),
    )
}
