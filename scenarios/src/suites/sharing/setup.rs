//! Sharing dashboards as the DMS's Administrator, and the ways a scenario sends a request in
//! behind the cloud (the DMA's public API, the WAF's listener as the Cloud Gateway forwards,
//! with the key the DMS hands it, or without): for what does not come from a recipient.

use std::collections::BTreeSet;

use fixtures::{Dashboard, DmaData};
use mocks::Environment;
use serde_json::{Value, json};

use super::calls::Call;
use crate::Failure;
use crate::clients::{DmaClient, DmaSession, RawReply, exchange_with};

/// One share, logged in through the gateway.
#[derive(Debug, Clone)]
pub(crate) struct LiveShare {
    pub share_id: String,
    pub dashboard: Dashboard,
    pub connection: String,
    /// The whitelist the share must get, by the scenario's own reading of the dashboard.
    pub whitelist: BTreeSet<Call>,
}

pub(crate) fn dma_data() -> Result<DmaData, Failure> {
    DmaData::load().map_err(|e| Failure::Harness(e.to_string()))
}

pub(crate) fn dashboards() -> Result<Vec<Dashboard>, Failure> {
    Dashboard::load_all().map_err(|e| Failure::Harness(e.to_string()))
}

/// The Administrator shares `dashboard` on the public API; answers the share ID. Each share
/// goes to an address of its own: the cloud mails one address at most ten times a day.
pub(crate) async fn share(admin: &DmaSession, dashboard: &str) -> Result<String, Failure> {
    let viewer = format!("viewer-{}@partner.example", mocks::world::random_token(4));
    let reply = admin
        .expect_data(
            "ShareDashboard",
            json!({ "dashboardID": dashboard, "emails": [viewer] }),
        )
        .await?;
    reply
        .get("ShareID")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Failure::precondition("ShareDashboard", "a share ID", reply))
}

/// Where a scenario's request goes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// The DMA's public API.
    Public,
    /// The WAF's listener with the Cloud Gateway's key: as the agent forwards a recipient's
    /// request.
    Gateway,
    /// The WAF's listener without the key: a local process that found the port.
    WafWithoutKey,
    /// The DMA's gateway port itself, without the key.
    GatewayPort,
    /// The DMA's gateway port with the key, the WAF left out.
    GatewayPortWithKey,
}

/// Sends one request `via` a way in, byte for byte as given.
pub(crate) async fn send(
    env: &Environment,
    via: Via,
    target: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<RawReply, Failure> {
    send_raw(env, via, "POST", target, content_type, body).await
}

/// [`send`] with any verb.
pub(crate) async fn send_raw(
    env: &Environment,
    via: Via,
    verb: &str,
    target: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<RawReply, Failure> {
    let (name, key) = env.dma().gateway_key().header();
    let (addr, keyed) = match via {
        Via::Public => (env.dma().addr(), false),
        Via::Gateway => (env.waf().addr(), true),
        Via::WafWithoutKey => (env.waf().addr(), false),
        Via::GatewayPort => (env.dma().gateway_addr(), false),
        Via::GatewayPortWithKey => (env.dma().gateway_addr(), true),
    };
    let headers = [(name, key.as_str())];
    let headers: &[(&str, &str)] = if keyed { &headers } else { &[] };
    exchange_with(addr, verb, target, content_type, headers, body).await
}

/// `ConnectApp` with `login`/`password` `via` a way in; the connection string, or the raw
/// answer.
pub(crate) async fn connect_app(
    env: &Environment,
    via: Via,
    login: &str,
    password: &str,
) -> Result<Result<String, String>, Failure> {
    let body = json!({
        "host": "", "login": login, "password": password,
        "clientAppName": "Cloud Gateway", "clientAppVersion": "1", "clientComputerName": "gateway",
    });
    let reply = send(
        env,
        via,
        "/API/v1/Json.asmx/ConnectApp",
        Some("application/json"),
        body.to_string().as_bytes(),
    )
    .await?;
    let answer: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    Ok(match answer.get("d").and_then(Value::as_str) {
        Some(connection) if reply.status == 200 => Ok(connection.to_owned()),
        _ => Err(format!("HTTP {} {}", reply.status, reply.body)),
    })
}

/// The login and password the DMS hands its Cloud Gateway for `share_id`.
pub(crate) fn credentials(env: &Environment, share_id: &str) -> Result<(String, String), Failure> {
    env.dma().gateway_credentials(share_id).ok_or_else(|| {
        Failure::precondition(
            format!("the gateway credentials of {share_id}"),
            "a login and a password",
            "none",
        )
    })
}

/// The Administrator's session on the public API.
pub(crate) async fn admin(env: &Environment) -> Result<DmaSession, Failure> {
    DmaClient::new(env).log_in(&env.accounts().dms_admin).await
}
