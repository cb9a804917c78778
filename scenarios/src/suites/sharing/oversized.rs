//! A DMS's tunnel carries every recipient's and every remote user's streams at once, so no
//! one request may end it. An HTTP/1.1 client may send a header block of any size; one larger
//! than the agent's HTTP/2 server takes, relayed into the tunnel, breaks the connection's
//! header compression state and with it every stream (sixth review: one request with 45 KB
//! of headers, from anyone holding a viewer URL, took a tunnel down, again and again). Sent
//! over HTTP/1.1 on both relays, the viewer's and remote access: each request is refused as a
//! client error, the DMS's tunnels are the same ones afterwards, and the next request is served.

use mocks::Environment;
use serde_json::json;

use super::live;
use crate::clients::{CloudClient, Viewer};
use crate::{Ctx, Failure, steps};

const DASHBOARD: &str = "core-network";
/// Header fields the oversized request carries, and the bytes of each value: 48 KB in all,
/// what the review sent.
const FIELDS: usize = 50;
const FIELD_BYTES: usize = 960;

/// An HTTP/1.1-only client that trusts the environment's CA and finds its hosts on loopback.
fn http1_client(env: &Environment) -> Result<reqwest::Client, Failure> {
    let ca = reqwest::Certificate::from_der(&env.ca_der())
        .map_err(|e| Failure::Harness(format!("CA unusable by reqwest: {e}")))?;
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([ca])
        .http1_only()
        .redirect(reqwest::redirect::Policy::none());
    for (name, addr) in env.published() {
        builder = builder.resolve(name, addr);
    }
    builder
        .build()
        .map_err(|e| Failure::Harness(format!("cannot build an HTTP/1.1 client: {e}")))
}

/// The IDs of the DMS's live tunnels, as the cloud holds them.
fn tunnels_of(env: &Environment) -> Vec<u64> {
    let dms_id = &env.accounts().dms_id;
    let mut ids: Vec<u64> = env
        .cloud()
        .tunnels()
        .live()
        .into_iter()
        .filter(|t| &t.dms_id == dms_id)
        .map(|t| t.id)
        .collect();
    ids.sort_unstable();
    ids
}

/// `request` with `FIELDS` headers of `FIELD_BYTES` each: the status it got.
async fn oversized(request: reqwest::RequestBuilder, what: &str) -> Result<u16, Failure> {
    let value = "A".repeat(FIELD_BYTES);
    let mut request = request;
    for i in 0..FIELDS {
        request = request.header(format!("x-h{i}"), value.as_str());
    }
    let answer = request
        .send()
        .await
        .map_err(|e| Failure::Harness(format!("{what}: {e}")))?;
    Ok(answer.status().as_u16())
}

pub(super) async fn an_oversized_request_ends_no_tunnel(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = live::connected(&env).await?;
    let (email, browser) = live::partner(&env).await?;
    let shared = live::share(&env, &admin, DASHBOARD, &[&email], json!({})).await?;
    let (viewer, _) = live::open_viewer(&browser, shared.link_for(&email)?).await?;
    let owner = env.accounts().cloud_admin.clone();
    let enabled = steps::enable_remote_access(&env, &owner, &[&owner]).await?;
    if enabled.status != 200 {
        return Err(Failure::precondition(
            "the Owner enabling remote access on the DMS",
            "HTTP 200",
            enabled,
        ));
    }
    let cookie = steps::sign_in(&CloudClient::new(&env)?, &owner).await?;
    let http1 = http1_client(&env)?;
    let sharing = env.cloud_url(mocks::cloud::Endpoint::Sharing);
    let dms_id = env.accounts().dms_id.clone();
    let remote = format!("{sharing}dms/{dms_id}/API/v1/Json.asmx/GetElement");
    let Viewer { base } = &viewer;
    let definition = format!("{}{}definition", sharing.trim_end_matches('/'), base);

    let mut rows = Vec::new();
    let before = tunnels_of(&env);
    let as_viewer = oversized(
        http1
            .get(&definition)
            .header("sec-fetch-dest", "empty")
            .header("sec-fetch-mode", "cors"),
        "the viewer's oversized request",
    )
    .await?;
    let served_after = browser.heartbeat(&viewer).await?.status;
    rows.push(json!({ "relay": "viewer", "oversized": as_viewer, "next request": served_after }));
    let as_remote = oversized(
        http1
            .post(&remote)
            .header(reqwest::header::COOKIE, &cookie)
            .json(&json!({})),
        "remote access's oversized request",
    )
    .await?;
    let remote_after = http1
        .post(&remote)
        .header(reqwest::header::COOKIE, &cookie)
        .json(&json!({}))
        .send()
        .await
        .map_err(|e| Failure::Harness(format!("remote access's next request: {e}")))?
        .status()
        .as_u16();
    rows.push(
        json!({ "relay": "remote access", "oversized": as_remote, "next request": remote_after }),
    );
    let after = tunnels_of(&env);
    let client_error = |status: u16| (400..500).contains(&status);
    ev.expect(
        "oversized-request-ends-no-tunnel",
        &format!(
            "{FIELDS} headers of {FIELD_BYTES} bytes over HTTP/1.1 through each relay: the status, the next request's, and the DMS's live tunnels before and after"
        ),
        client_error(as_viewer)
            && client_error(as_remote)
            && served_after == 200
            && remote_after < 500
            && !before.is_empty()
            && after == before,
        "each refused as a client error (4xx), the next answered by the DMS side (the viewer: 200; remote access: no 5xx), the same tunnels",
        json!({ "requests": rows, "tunnels before": before, "tunnels after": after }),
    )
}
