//! Connecting is opt-in (OPT-1, OPT-2, OPT-3): nothing leaves the DMS until an Administrator
//! enables the connection, and a disconnect ends it everywhere.

use std::time::Duration;

use mocks::Environment;
use mocks::world::Fault;
use serde_json::json;

use crate::clients::{CloudClient, DmaClient, DmaReply};
use crate::steps::{self, PROMPTLY};
use crate::{Catch, Ctx, Evidence, Failure, Scenario, Suite, oracle};

const DAY: Duration = Duration::from_secs(24 * 3600);

pub(crate) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "optin.new-dms-sends-nothing",
            suite: Suite::Optin,
            title: "A new DMS, busy for a simulated day, opens no connection and sends no byte to the cloud",
            requirements: &["OPT-1"],
            catches: const {
                &[Catch::by(
                    Fault::AgentConnectBeforeOptin,
                    "no-cloud-name-looked-up",
                )]
            },
            body: |ctx| Box::pin(new_dms_sends_nothing(ctx)),
        },
        Scenario {
            id: "optin.non-admin-cannot-enable",
            suite: Suite::Optin,
            title: "A user without \"Connect to cloud\" is refused, and nothing is sent",
            requirements: &["OPT-2"],
            catches: const {
                &[Catch::by(
                    Fault::AgentNonAdminCanEnable,
                    "no-cloud-name-looked-up",
                )]
            },
            body: |ctx| Box::pin(non_admin_cannot_enable(ctx)),
        },
        Scenario {
            id: "optin.admin-enable-brings-the-tunnel-up",
            suite: Suite::Optin,
            title: "Only after an Administrator enables it does the DMS reach the cloud, and then its tunnel is up",
            requirements: &["OPT-1", "OPT-2"],
            catches: const {
                &[Catch::by(
                    Fault::AgentConnectBeforeOptin,
                    "no-cloud-name-looked-up",
                )]
            },
            body: |ctx| Box::pin(admin_enable_brings_the_tunnel_up(ctx)),
        },
        Scenario {
            id: "optin.disconnect-ends-everything",
            suite: Suite::Optin,
            title: "A disconnect closes the tunnel, forgets the token on the DMS, revokes it in the cloud, and silences the DMS",
            requirements: &["OPT-3"],
            catches: const {
                &[
                    Catch::by(
                        Fault::AgentDisconnectKeepsTunnel,
                        "dms-tunnel-sockets-closed",
                    ),
                    Catch::by(Fault::CloudNoRevokeOnDisconnect, "old-token-refused-on-api"),
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
        "no-cloud-name-looked-up",
        &format!("{when}: cloud names the DMS looked up"),
        0,
        lookups,
    )?;
    let egress = env.dms_egress().total();
    ev.expect_eq(
        "no-connection-from-dms",
        &format!("{when}: connections the DMS opened"),
        0,
        egress.connections,
    )?;
    ev.expect_eq(
        "no-byte-on-dms-sockets",
        &format!("{when}: bytes the DMS sent or received"),
        0,
        egress.bytes(),
    )?;
    let ingress = env.cloud().ingress().total();
    ev.expect_eq(
        "no-connection-at-cloud",
        &format!("{when}: connections the cloud accepted"),
        0,
        ingress.connections,
    )?;
    ev.expect_eq(
        "no-request-at-cloud",
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
    let spec = oracle::spec()?;
    let operator = DmaClient::new(&env)
        .log_in(&env.accounts().dms_operator)
        .await?;
    let reply = operator.call("ConnectToCloud", json!({})).await?;
    steps::let_time_pass(&env, DAY, 4).await;
    // What left the DMS judges the attempt; the DMA's answer only says what it claims.
    expect_cloud_untouched(&env, &ev, "after the refused attempt and a simulated day")?;
    let refused = matches!(&reply, DmaReply::Error { status: 500, message } if message.contains(&spec.permissions.connect));
    ev.expect(
        "ordinary-user-refused-connect",
        "ConnectToCloud as an ordinary user",
        refused,
        "HTTP 500 naming the missing \"Connect to cloud\" permission",
        &reply,
    )
}

async fn admin_enable_brings_the_tunnel_up(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    steps::let_time_pass(&env, DAY, 4).await;
    expect_cloud_untouched(&env, &ev, "before the Administrator acts")?;

    steps::connect_dms(&env).await?;
    let dms_id = &env.accounts().dms_id;
    // Both ends of the tunnel: the connections the DMS holds open to the tunnel host, counted
    // on its sockets, and the tunnels the cloud holds.
    let open_to_tunnel = env.dms_egress().to(&spec.hosts.tunnel).open;
    ev.expect(
        "dms-holds-a-tunnel-open",
        "connections the DMS holds open to the tunnel endpoint",
        open_to_tunnel >= 1,
        "at least one",
        open_to_tunnel,
    )?;
    let live: Vec<String> = env
        .cloud()
        .tunnels()
        .live()
        .into_iter()
        .map(|t| t.dms_id)
        .collect();
    let expected = vec![dms_id.clone(); usize::try_from(open_to_tunnel).unwrap_or(0)];
    ev.expect_eq(
        "cloud-holds-the-dms-tunnels",
        "tunnels the cloud holds (one per connection the DMS holds open)",
        expected,
        live,
    )?;
    let token = steps::token_seen_on_tunnel(&env)?;
    let stored = env.dms_credentials().stored().map(|c| c.access_token);
    ev.expect(
        "tunnel-token-is-the-stored-one",
        "the token on the tunnel is the one the DMS stored",
        stored.as_deref() == Some(token.as_str()),
        "the stored token",
        stored.is_some(),
    )?;
    let destinations: Vec<String> = env.dms_egress().by_destination().into_keys().collect();
    let domain = format!(".{}", spec.hosts.domain);
    ev.expect(
        "dms-reached-only-the-cloud",
        "destinations the DMS reached",
        destinations.iter().all(|d| d.ends_with(&domain)),
        &format!("only *{domain}"),
        &destinations,
    )?;
    Ok(())
}

async fn disconnect_ends_everything(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let admin = steps::connect_dms(&env).await?;
    let token = steps::token_seen_on_tunnel(&env)?;

    admin.expect_data("DisconnectFromCloud", json!({})).await?;
    env.settle().await;
    let tunnel_host = spec.hosts.tunnel.as_str();
    ev.expect_eq(
        "dms-tunnel-sockets-closed",
        "connections the DMS holds open to the tunnel endpoint",
        0,
        env.dms_egress().to(tunnel_host).open,
    )?;
    ev.expect_eq(
        "dms-forgot-its-credentials",
        "credentials the DMS still stores",
        false,
        env.dms_credentials().stored().is_some(),
    )?;
    // The DMS's end is closed; the cloud learns it from the socket, in real time.
    let dms_id = &env.accounts().dms_id;
    if !env.cloud().tunnels().wait_live(dms_id, 0, PROMPTLY).await {
        return Err(Failure::timeout(
            "the cloud to record the closed tunnels of the DMS",
            PROMPTLY,
        ));
    }

    let outsider = CloudClient::new(&env)?;
    let replay = outsider
        .get_with_token(mocks::cloud::Endpoint::Connection, "api/dms/self", &token)
        .await?;
    ev.expect_eq(
        "old-token-refused-on-api",
        "replaying the old token on the API: HTTP status",
        401,
        replay.status,
    )?;
    let upgrade = outsider.try_tunnel(&token).await?;
    ev.expect_eq(
        "old-token-refused-on-tunnel",
        "replaying the old token on the tunnel: HTTP status",
        401,
        upgrade,
    )?;

    let before = env.dms_egress().total();
    let requests_before = env.cloud().requests().count();
    steps::let_time_pass(&env, DAY, 24).await;
    let after = env.dms_egress().total();
    ev.expect_eq(
        "no-connection-from-dms-after",
        "connections the DMS opened in the day after",
        0,
        after.connections - before.connections,
    )?;
    ev.expect_eq(
        "no-byte-on-dms-sockets-after",
        "bytes the DMS exchanged in the day after",
        0,
        after.bytes() - before.bytes(),
    )?;
    let requests = env.cloud().requests().count() - requests_before;
    ev.expect_eq(
        "no-request-at-cloud-after",
        "requests the cloud received in the day after",
        0,
        requests,
    )?;
    Ok(())
}
