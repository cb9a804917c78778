//! TLS client paths × bad servers (TLS-2, TLS-3, NET-1): every connection the agent makes —
//! the device authorization that starts the connect flow, the token poll that follows it, the
//! daily refresh, a disconnect's revocation, a share's announcement and its withdrawal, the
//! tunnel's redial — directly and again through the site's DMZ proxy, meets, in the middle of
//! the DMS's life, a cloud that presents an untrusted issuer, another host's name, an expired
//! or a not-yet-valid certificate, TLS 1.3 only, or only TLS 1.0 or 1.1 (a hand-written
//! ServerHello). Judged on the bad server's side (`tls_judge`): the agent tried, no request
//! of it arrived, and every hello it sent offers only the versions the spec allows (no
//! fallback). A plaintext redirect on the connection host itself is refused too.

use std::time::Duration;

use mocks::Options;
use mocks::cloud::CloudTls;
use serde_json::json;

use super::tls_judge::{DIMENSION, Found, Way, bad_servers, judge, mark, present};
use crate::clients::DmaReply;
use crate::steps::{self, ask_dms_to_connect};
use crate::suites::sharing::setup;
use crate::{Ctx, Evidence, Failure, oracle};

/// Long enough for a retry at the longest backoff the product documents (5 minutes).
const RETRY_WINDOW: Duration = Duration::from_secs(400);
/// A few of the token endpoint's polling intervals (RFC 8628's default: 5 seconds).
const POLLS: Duration = Duration::from_secs(12);

/// The connection and tunnel hosts, as the spec publishes them.
struct Hosts {
    connection: String,
    tunnel: String,
}

pub(super) async fn every_agent_connection_refuses_every_bad_server(
    ctx: Ctx,
) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let hosts = Hosts {
        connection: spec.hosts.connection.clone(),
        tunnel: spec.hosts.tunnel.clone(),
    };
    let mut found = Found::default();
    for way in Way::ALL {
        sweep_one_way(&ctx, &ev, way, &hosts, &mut found).await?;
    }
    let redirected = plaintext_redirects(&ctx, &ev, &hosts.connection).await?;

    ev.expect_eq(
        "agent-refuses-every-bad-server-on-every-path",
        "paths on which a request of the agent reached a bad server",
        Vec::<String>::new(),
        found.reached,
    )?;
    ev.expect_eq(
        "agent-never-falls-back",
        "hellos offering a version the spec does not allow",
        Vec::<String>::new(),
        found.fell_back,
    )?;
    ev.expect_eq(
        "agent-refuses-plaintext-redirect",
        "plaintext redirects on the connection host the agent followed",
        Vec::<String>::new(),
        redirected,
    )?;
    if found.untried.is_empty() {
        Ok(())
    } else {
        Err(Failure::precondition(
            "every path tried against every server",
            "a ClientHello on the bad server's record for each",
            found.untried,
        ))
    }
}

/// Every path of the agent, `way`, against every bad server.
async fn sweep_one_way(
    ctx: &Ctx,
    ev: &Evidence,
    way: Way,
    hosts: &Hosts,
    found: &mut Found,
) -> Result<(), Failure> {
    let spec = oracle::spec()?;
    let connection = hosts.connection.as_str();

    // The device authorization: the first connection the agent makes (a fresh DMS for each
    // server, so one that got through does not hide the next).
    let path = way.path("device authorization");
    for (server, tls) in bad_servers() {
        let env = way.environment(ctx).await?;
        present(&env, tls)?;
        let at = mark(&env);
        let reply = ask_dms_to_connect(&env).await?;
        if !matches!(reply, DmaReply::Error { .. }) {
            found
                .reached
                .push(format!("{path} / {server}: the DMA answered {reply:?}"));
        }
        judge(&env, ev, (way, &path, server, connection), &at, found)?;
        env.stop().await;
    }

    // The token poll: the pairing started on the good server, the polls meet the bad ones
    // (nobody approves: the cloud would answer `authorization_pending`).
    let env = way.environment(ctx).await?;
    let path = way.path("token poll");
    let reply = ask_dms_to_connect(&env).await?;
    if !matches!(reply, DmaReply::Data(_)) {
        return Err(Failure::precondition(
            format!("{path}: ConnectToCloud"),
            "a user code",
            reply,
        ));
    }
    for (server, tls) in bad_servers() {
        present(&env, tls)?;
        let at = mark(&env);
        steps::let_time_pass(&env, POLLS, 4).await;
        judge(&env, ev, (way, &path, server, connection), &at, found)?;
    }
    env.stop().await;

    // The daily refresh, then its retries.
    let env = way.environment(ctx).await?;
    let path = way.path("token refresh");
    steps::connect_dms(&env).await?;
    let renewal = Duration::from_secs(spec.token.renew_every_seconds);
    steps::let_time_pass(&env, renewal - Duration::from_secs(120), 24).await;
    for (server, tls) in bad_servers() {
        present(&env, tls)?;
        let at = mark(&env);
        steps::let_time_pass(&env, RETRY_WINDOW, 40).await;
        judge(&env, ev, (way, &path, server, connection), &at, found)?;
    }
    env.stop().await;

    // A share's announcement, then a share's withdrawal (kept and retried while refused).
    let env = way.environment(ctx).await?;
    let admin = steps::connect_dms(&env).await?;
    let dashboard = setup::dashboards()?
        .into_iter()
        .next()
        .ok_or_else(|| Failure::Harness("no fixture dashboard".into()))?;
    let path = way.path("share announcement");
    for (server, tls) in bad_servers() {
        present(&env, tls)?;
        let at = mark(&env);
        let viewer = format!("viewer-{}@partner.example", mocks::world::random_token(4));
        let reply = admin
            .call(
                "ShareDashboard",
                json!({ "dashboardID": dashboard.id, "emails": [viewer] }),
            )
            .await?;
        ev.saw(format!("{path} / {server}: the DMA's answer"), &reply);
        judge(&env, ev, (way, &path, server, connection), &at, found)?;
    }
    let path = way.path("share withdrawal");
    for (server, tls) in bad_servers() {
        present(&env, CloudTls::default())?;
        let share_id = setup::share(&admin, &dashboard.id).await?;
        present(&env, tls)?;
        let at = mark(&env);
        admin
            .call("DeleteShare", json!({ "shareID": share_id }))
            .await?;
        steps::let_time_pass(&env, Duration::from_secs(11), 2).await;
        judge(&env, ev, (way, &path, server, connection), &at, found)?;
    }
    env.stop().await;

    // A disconnect's revocation, then its retries.
    let env = way.environment(ctx).await?;
    let path = way.path("revocation");
    let admin = steps::connect_dms(&env).await?;
    let mut first = true;
    for (server, tls) in bad_servers() {
        present(&env, tls)?;
        let at = mark(&env);
        if first {
            admin.expect_data("DisconnectFromCloud", json!({})).await?;
            first = false;
        } else {
            steps::let_time_pass(&env, Duration::from_secs(11), 1).await;
        }
        judge(&env, ev, (way, &path, server, connection), &at, found)?;
    }
    env.stop().await;

    // The tunnel's redial, after the cloud closed the DMS's tunnels.
    let env = way.environment(ctx).await?;
    let path = way.path("tunnel");
    steps::connect_dms(&env).await?;
    let dms_id = env.accounts().dms_id.clone();
    for (server, tls) in bad_servers() {
        present(&env, tls)?;
        let at = mark(&env);
        for live in env.cloud().tunnels().live() {
            if live.dms_id == dms_id {
                env.cloud().tunnels().close(live.id);
            }
        }
        steps::dms_let_go_of_tunnels(&env).await;
        steps::let_time_pass(&env, RETRY_WINDOW, 40).await;
        judge(&env, ev, (way, &path, server, &hosts.tunnel), &at, found)?;
    }
    env.stop().await;
    Ok(())
}

/// The connection host itself answers the device authorization with a redirect to plain
/// HTTP on its own name (to port 80, and to its TLS port): the agent follows neither.
/// Judged on the DMS's sockets: the one connection that got the redirect, nothing after it,
/// nothing to an unpublished address. Returns the redirects that were followed.
async fn plaintext_redirects(
    ctx: &Ctx,
    ev: &Evidence,
    connection: &str,
) -> Result<Vec<String>, Failure> {
    let mut followed = Vec::new();
    for location in [
        format!("http://{connection}/oauth/device"),
        format!("http://{connection}:443/oauth/device"),
    ] {
        let env = ctx
            .environment_with(Options {
                connection_redirects_to: Some(location.clone()),
                ..ctx.options()
            })
            .await?;
        let reply = ask_dms_to_connect(&env).await?;
        env.settle().await;
        let sockets = env.dms_egress().connections();
        let strays = env.resolver().strays();
        let refused = matches!(reply, DmaReply::Error { .. });
        let outcome = if sockets.len() == 1 && strays.is_empty() && refused {
            "refused: no connection after the redirect".to_owned()
        } else {
            followed.push(format!(
                "{location}: sockets {sockets:?}, strays {strays:?}"
            ));
            format!(
                "FOLLOWED: {} sockets, the DMA answered {reply:?}",
                sockets.len()
            )
        };
        ev.row(
            DIMENSION,
            "device authorization (plaintext redirect)",
            &location,
            outcome,
        );
        env.stop().await;
    }
    Ok(followed)
}
