//! Connecting is opt-in (OPT-1, OPT-2, OPT-3): nothing leaves the DMS until an Administrator
//! enables the connection, and a disconnect ends it everywhere.

use std::time::Duration;

use mocks::Environment;
use mocks::world::Fault;
use serde_json::json;

use crate::clients::{CloudClient, DmaClient, DmaReply};
use crate::steps::{self, PROMPTLY};
use crate::{Catch, Ctx, Evidence, Failure, Scenario, Suite};

const DAY: Duration = Duration::from_secs(24 * 3600);

pub(crate) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "optin.new-dms-sends-nothing",
            suite: Suite::Optin,
            title: "A new DMS, busy for a simulated day, opens no connection and sends no byte to the cloud",
            requirements: &["OPT-1"],
            catches: const { &[Catch::by(Fault::AgentConnectBeforeOptin, "?")] },
            body: |ctx| Box::pin(new_dms_sends_nothing(ctx)),
        },
        Scenario {
            id: "optin.non-admin-cannot-enable",
            suite: Suite::Optin,
            title: "A user without \"Connect to cloud\" is refused, and nothing is sent",
            requirements: &["OPT-2"],
            catches: const { &[Catch::by(Fault::AgentNonAdminCanEnable, "?")] },
            body: |ctx| Box::pin(non_admin_cannot_enable(ctx)),
        },
        Scenario {
            id: "optin.admin-enable-brings-the-tunnel-up",
            suite: Suite::Optin,
            title: "Only after an Administrator enables it does the DMS reach the cloud, and then its tunnel is up",
            requirements: &["OPT-1", "OPT-2"],
            catches: const { &[Catch::by(Fault::AgentConnectBeforeOptin, "?")] },
            body: |ctx| Box::pin(admin_enable_brings_the_tunnel_up(ctx)),
        },
        Scenario {
            id: "optin.disconnect-ends-everything",
            suite: Suite::Optin,
            title: "A disconnect closes the tunnel, forgets the token on the DMS, revokes it in the cloud, and silences the DMS",
            requirements: &["OPT-3"],
            catches: const {
                &[
                    Catch::by(Fault::AgentDisconnectKeepsTunnel, "?"),
                    Catch::by(Fault::CloudNoRevokeOnDisconnect, "?"),
                ]
            },
            body: |ctx| Box::pin(disconnect_ends_everything(ctx)),
        },
    ]
}

/// Records and checks that nothing reached the cloud: not a lookup of its names, not a
/// connection or a byte on the DMS's sockets, not a connection or request at the cloud.
fn expect_cloud_untouched(env: &Environment, ev: &Evidence, when: &str) -> Result<(), Failure> {
    let lookups = env.resolver().lookups().len();
    ev.expect_eq(
        "cloud-names-dms-looked-up",
        &format!("{when}: cloud names the DMS looked up"),
        0,
        lookups,
    )?;
    let egress = env.dms_egress().total();
    ev.expect_eq(
        "connections-dms-opened",
        &format!("{when}: connections the DMS opened"),
        0,
        egress.connections,
    )?;
    ev.expect_eq(
        "bytes-dms-sent-or-received",
        &format!("{when}: bytes the DMS sent or received"),
        0,
        egress.bytes(),
    )?;
    let ingress = env.cloud().ingress().total();
    ev.expect_eq(
        "connections-cloud-accepted",
        &format!("{when}: connections the cloud accepted"),
        0,
        ingress.connections,
    )?;
    ev.expect_eq(
        "requests-cloud-received",
        &format!("{when}: requests the cloud received"),
        0,
        env.cloud().requests().count(),
    )
}

async fn new_dms_sends_nothing(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::everyday_dma_activity(&env).await?;
    steps::let_time_pass(&env, DAY, 24).await;
    steps::everyday_dma_activity(&env).await?;
    env.settle().await;
    expect_cloud_untouched(&env, &ev, "after a simulated day of DMA activity")?;
    Ok(())
}

async fn non_admin_cannot_enable(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let operator = DmaClient::new(&env)
        .log_in(&env.accounts().dms_operator)
        .await?;
    let reply = operator.call("ConnectToCloud", json!({})).await?;
    let refused = matches!(&reply, DmaReply::Error { status: 500, message } if message.contains("Connect to cloud"));
    ev.expect(
        "connecttocloud-ordinary-user",
        "ConnectToCloud as an ordinary user",
        refused,
        "HTTP 500 naming the missing \"Connect to cloud\" permission",
        &reply,
    )?;
    steps::let_time_pass(&env, DAY, 4).await;
    expect_cloud_untouched(&env, &ev, "after the refused attempt and a simulated day")?;
    Ok(())
}

async fn admin_enable_brings_the_tunnel_up(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::let_time_pass(&env, DAY, 4).await;
    expect_cloud_untouched(&env, &ev, "before the Administrator acts")?;

    steps::connect_dms(&env).await?;
    let dms_id = &env.accounts().dms_id;
    let live: Vec<String> = env
        .cloud()
        .tunnels()
        .live()
        .into_iter()
        .map(|t| t.dms_id)
        .collect();
    ev.expect_eq(
        "tunnels-cloud-holds",
        "tunnels the cloud holds",
        vec![dms_id.clone(); mocks::agent::TUNNELS],
        live,
    )?;
    let open_to_tunnel = env
        .dms_egress()
        .to(mocks::cloud::Endpoint::Tunnel.host())
        .open;
    ev.expect_eq(
        "connections-dms-holds-open-tunnel-endpoint",
        "connections the DMS holds open to the tunnel endpoint",
        mocks::agent::TUNNELS as u64,
        open_to_tunnel,
    )?;
    let token = steps::token_seen_on_tunnel(&env)?;
    let stored = env.dms_credentials().stored().map(|c| c.access_token);
    ev.expect(
        "token-tunnel-one-dms-stored",
        "the token on the tunnel is the one the DMS stored",
        stored.as_deref() == Some(token.as_str()),
        "the stored token",
        stored.is_some(),
    )?;
    let destinations: Vec<String> = env.dms_egress().by_destination().into_keys().collect();
    ev.expect(
        "destinations-dms-reached",
        "destinations the DMS reached",
        destinations
            .iter()
            .all(|d| d.ends_with(".dataminer.services")),
        "only *.dataminer.services",
        &destinations,
    )?;
    Ok(())
}

async fn disconnect_ends_everything(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = steps::connect_dms(&env).await?;
    let token = steps::token_seen_on_tunnel(&env)?;

    admin.expect_data("DisconnectFromCloud", json!({})).await?;
    env.settle().await;
    let tunnel_host = mocks::cloud::Endpoint::Tunnel.host();
    ev.expect_eq(
        "credentials-dms-still-stores",
        "credentials the DMS still stores",
        false,
        env.dms_credentials().stored().is_some(),
    )?;
    ev.expect_eq(
        "connections-dms-holds-open-tunnel-endpoint-2",
        "connections the DMS holds open to the tunnel endpoint",
        0,
        env.dms_egress().to(tunnel_host).open,
    )?;
    let dms_id = &env.accounts().dms_id;
    let closed = env.cloud().tunnels().wait_live(dms_id, 0, PROMPTLY).await;
    ev.expect(
        "cloud-tunnel-dms",
        "the cloud's tunnel for the DMS",
        closed,
        "closed",
        env.cloud().tunnels().events(),
    )?;

    let outsider = CloudClient::new(&env)?;
    let replay = outsider
        .get_with_token(mocks::cloud::Endpoint::Connection, "api/dms/self", &token)
        .await?;
    ev.expect_eq(
        "replaying-old-token-api-http-status",
        "replaying the old token on the API: HTTP status",
        401,
        replay.status,
    )?;
    let upgrade = outsider.try_tunnel(&token).await?;
    ev.expect_eq(
        "replaying-old-token-tunnel-http-status",
        "replaying the old token on the tunnel: HTTP status",
        401,
        upgrade,
    )?;

    let before = env.dms_egress().total();
    let requests_before = env.cloud().requests().count();
    steps::let_time_pass(&env, DAY, 24).await;
    let after = env.dms_egress().total();
    ev.expect_eq(
        "connections-dms-opened-day-after",
        "connections the DMS opened in the day after",
        0,
        after.connections - before.connections,
    )?;
    ev.expect_eq(
        "bytes-dms-exchanged-day-after",
        "bytes the DMS exchanged in the day after",
        0,
        after.bytes() - before.bytes(),
    )?;
    let requests = env.cloud().requests().count() - requests_before;
    ev.expect_eq(
        "requests-cloud-received-day-after",
        "requests the cloud received in the day after",
        0,
        requests,
    )?;
    Ok(())
}
