//! NET-4: the DMS through its site's DMZ proxy. The proxy records every CONNECT and every byte
//! it relays; the DMS's own sockets record where each went (the proxy's port, or around it).

use mocks::agent::ProxyCredentials;
use mocks::world::net::DmzPolicy;
use mocks::world::random_token;
use mocks::{Dmz, Environment, Options};
use serde_json::{Value, json};

use super::wire::{is_under, secrets_in, tls_records_only};
use crate::clients::{CloudClient, DmaReply};
use crate::steps::{self, Recipient};
use crate::suites::sharing::setup;
use crate::{Ctx, Evidence, Failure, oracle};

/// The proxy login the site's DMZ gives the gateway.
const PROXY_USER: &str = "cloud-gateway";

fn dmz_options(ctx: &Ctx, proxy: DmzPolicy, agent: Option<ProxyCredentials>) -> Options {
    Options {
        dmz: Some(Dmz {
            proxy,
            agent_credentials: agent,
        }),
        ..ctx.options()
    }
}

fn proxy_of(env: &Environment) -> Result<&mocks::world::net::ForwardProxy, Failure> {
    env.dmz_proxy()
        .ok_or_else(|| Failure::Harness("the environment started without its DMZ proxy".into()))
}

/// Every byte either way through the proxy is TLS records.
fn expect_tls_only(env: &Environment, ev: &Evidence, when: &str) -> Result<(), Failure> {
    let mut not_tls = Vec::new();
    for tunnel in proxy_of(env)?.tunnels() {
        for (direction, bytes) in [("up", &tunnel.upstream), ("down", &tunnel.downstream)] {
            if let Err(at) = tls_records_only(bytes) {
                not_tls.push((tunnel.target.clone(), direction, at));
            }
        }
    }
    ev.expect(
        "relayed-bytes-are-tls-records",
        &format!("{when}: relayed streams that are not TLS records only"),
        not_tls.is_empty(),
        "none",
        not_tls,
    )
}

/// Every socket the DMS opened went to the proxy.
fn expect_no_direct(env: &Environment, ev: &Evidence, when: &str) -> Result<(), Failure> {
    let proxy = proxy_of(env)?.addr();
    let around: Vec<_> = env
        .dms_egress()
        .connections()
        .into_iter()
        .filter(|c| c.peer != Some(proxy))
        .collect();
    ev.expect(
        "no-direct-connection-with-proxy",
        &format!("{when}: DMS sockets that went elsewhere than the proxy at {proxy}"),
        around.is_empty(),
        "none",
        around,
    )
}

/// The Administrator approves the user code of `reply` (the DMA's answer to ConnectToCloud)
/// in the cloud, and the agent's next poll comes.
pub(super) async fn approve_pairing(env: &Environment, reply: &DmaReply) -> Result<(), Failure> {
    let user_code = match reply {
        DmaReply::Data(pairing) => pairing.get("UserCode").and_then(Value::as_str),
        DmaReply::Error { .. } => None,
    }
    .ok_or_else(|| Failure::precondition("ConnectToCloud", "a user code", reply))?;
    let browser = CloudClient::new(env)?;
    let cookie = steps::cloud_login(env, &browser).await?;
    let approval =
        steps::approve_on_page(&browser, Some(&cookie), user_code, &env.accounts().dms_id).await?;
    if approval.answer.status != 200 {
        return Err(Failure::precondition(
            "approving the DMS on the verification page",
            "HTTP 200",
            approval.answer,
        ));
    }
    // The RFC 8628 polling interval the cloud announces.
    env.advance(std::time::Duration::from_secs(5)).await;
    Ok(())
}

/// The first fixture dashboard is shared, and its calls are made through the sharing front
/// end (remote access, as a read-only DMS user).
pub(super) async fn recipients_traffic(env: &Environment) -> Result<(), Failure> {
    let admin = setup::admin(env).await?;
    let dashboard = setup::dashboards()?
        .into_iter()
        .next()
        .ok_or_else(|| Failure::Harness("no fixture dashboard".into()))?;
    setup::share(&admin, &dashboard.id).await?;
    // Through remote access, as a read-only DMS user: share users are signed in only by the
    // Cloud Gateway itself.
    let user = &env.accounts().dms_viewer;
    let dms_id = &env.accounts().dms_id;
    let recipient = Recipient::signed_in(env).await?;
    let connection = recipient
        .connect_app(dms_id, &user.login, &user.password)
        .await?;
    for call in dashboard.components.iter().flat_map(|c| &c.calls) {
        let mut body = Value::Object(call.parameters.clone());
        body["connection"] = json!(connection);
        let (status, answer) = recipient.call_json(dms_id, &call.method, &body).await?;
        if status != 200 {
            return Err(Failure::precondition(
                format!("the recipient's {} through the DMZ", call.method),
                "HTTP 200",
                (status, answer),
            ));
        }
    }
    Ok(())
}

/// What must never cross the DMZ in the clear: the DMA's canaries, the DMS's token and
/// refresh key, the DMS users' passwords.
fn secrets(env: &Environment) -> Result<Vec<String>, Failure> {
    let data = setup::dma_data()?;
    let mut secrets: Vec<String> = data
        .elements
        .iter()
        .flat_map(|e| {
            std::iter::once(e.name.as_str())
                .chain(e.alarms.iter().map(|a| a.value.as_str()))
                .chain(e.parameters.iter().map(|p| p.value.as_str()))
        })
        .filter_map(|text| text.find("CANARY-").map(|at| text[at..].to_owned()))
        .collect();
    secrets.push(steps::token_seen_on_tunnel(env)?);
    if let Some(stored) = env.dms_credentials().stored() {
        secrets.extend([stored.access_token, stored.refresh_key]);
    }
    let accounts = env.accounts();
    secrets.extend([
        accounts.dms_admin.password.clone(),
        accounts.dms_operator.password.clone(),
        accounts.cloud_admin.password.clone(),
    ]);
    Ok(secrets)
}

pub(super) async fn relays_only_tls(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let password = random_token(12);
    let policy = DmzPolicy {
        credentials: Some((PROXY_USER.to_owned(), password.clone())),
        refuse_all: false,
    };
    let credentials = ProxyCredentials {
        user: PROXY_USER.to_owned(),
        password,
    };
    let env = ctx
        .environment_with(dmz_options(&ctx, policy, Some(credentials)))
        .await?;
    // The first exchange is judged on what the proxy relayed before its outcome is.
    let reply = steps::ask_dms_to_connect(&env).await?;
    expect_tls_only(&env, &ev, "after the DMS's first request")?;
    approve_pairing(&env, &reply).await?;
    steps::tunnels_up(&env).await?;
    recipients_traffic(&env).await?;
    // A daily renewal and its new tunnels, through the proxy as well.
    env.advance(std::time::Duration::from_secs(25 * 3600)).await;
    steps::tunnels_up(&env).await?;

    let tunnels = proxy_of(&env)?.tunnels();
    let off: Vec<_> = tunnels
        .iter()
        .filter(|t| {
            let (host, port) = t.target.rsplit_once(':').unwrap_or((&t.target, ""));
            !is_under(host, &spec.hosts.domain) || port != "443" || t.status != 200
        })
        .collect();
    ev.expect(
        "proxy-connects-only-to-dataminer-services-443",
        "CONNECTs the proxy received that were not to a dataminer.services name on 443, or not granted",
        off.is_empty() && !tunnels.is_empty(),
        "none, out of at least one",
        (&off, tunnels.len()),
    )?;
    expect_tls_only(&env, &ev, "after a connected day with recipients' traffic")?;
    let secrets = secrets(&env)?;
    let leaked: Vec<(String, Vec<&str>)> = tunnels
        .iter()
        .map(|t| {
            let mut found = secrets_in(&t.upstream, &secrets);
            found.extend(secrets_in(&t.downstream, &secrets));
            (t.target.clone(), found)
        })
        .filter(|(_, found)| !found.is_empty())
        .collect();
    ev.expect(
        "no-secret-in-relayed-bytes",
        &format!(
            "canaries, tokens and passwords ({}) found in the relayed bytes",
            secrets.len()
        ),
        leaked.is_empty(),
        "none",
        leaked,
    )?;
    expect_no_direct(&env, &ev, "after a connected day")?;
    env.stop().await;
    Ok(())
}

pub(super) async fn refusal_is_a_clear_error(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let cases = [
        (
            "a proxy that demands credentials the DMS lacks",
            DmzPolicy {
                credentials: Some((PROXY_USER.to_owned(), random_token(12))),
                refuse_all: false,
            },
            ["407", "proxy"],
        ),
        (
            "a proxy that refuses every tunnel",
            DmzPolicy {
                credentials: None,
                refuse_all: true,
            },
            ["403", "proxy"],
        ),
    ];
    for (what, policy, words) in cases {
        let env = ctx
            .environment_with(dmz_options(&ctx, policy, None))
            .await?;
        let reply = steps::ask_dms_to_connect(&env).await?;
        env.settle().await;
        expect_no_direct(&env, &ev, what)?;
        let told = matches!(&reply, DmaReply::Error { message, .. }
            if words.iter().all(|w| message.to_ascii_lowercase().contains(w)));
        ev.expect(
            "operator-told-proxy-refused",
            &format!("{what}: the DMA's answer to ConnectToCloud"),
            told,
            &format!("an error that names the proxy and its {}", words[0]),
            reply,
        )?;
        let state = crate::clients::DmaClient::new(&env)
            .log_in(&env.accounts().dms_admin)
            .await?
            .call("GetCloudConnectionState", json!({}))
            .await?;
        ev.saw(format!("{what}: the DMS's connection state"), state);
        env.stop().await;
    }
    Ok(())
}
