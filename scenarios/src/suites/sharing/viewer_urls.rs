//! The viewer's URL is a capability (`/s/{token}/v/{viewer}/`): the DMS's page is sandboxed,
//! so its requests carry no cookie of the site's, and the viewer session's random ID in the
//! path is what the relay serves them on. It opens only its own link's viewer, and only while
//! the account that opened it is signed in: the capability of another link under this link,
//! one made up, the link's path without one, and the capability after the account signed out
//! are refused on the wire, and the DMA carries out nothing for them. The page's requests are
//! served without the account's cookie (the sandboxed page cannot send it), and the cloud's
//! answer to the page's CORS preflight grants no credentials.

use std::time::Duration;

use mocks::world::random_token;
use serde_json::json;

use super::live;
use crate::clients::Viewer;
use crate::{Ctx, Failure, oracle, steps};

const DASHBOARD: &str = "core-network";

pub(super) async fn viewer_urls_open_only_their_own_viewer(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = live::connected(&env).await?;
    let (email, mut browser) = live::partner(&env).await?;
    let first = live::share(&env, &admin, DASHBOARD, &[&email], json!({})).await?;
    let second = live::share(&env, &admin, DASHBOARD, &[&email], json!({})).await?;
    let (viewer, _) = live::open_viewer(&browser, first.link_for(&email)?).await?;
    let (other, _) = live::open_viewer(&browser, second.link_for(&email)?).await?;
    let calls = live::dashboard_calls(DASHBOARD)?;
    let (method, parameters) = calls
        .first()
        .ok_or_else(|| Failure::Harness(format!("{DASHBOARD} has no call")))?;

    // The page's own requests, with no cookie: served.
    let served = browser.heartbeat(&viewer).await?;
    ev.expect(
        "page-requests-need-no-cookie",
        "the dashboard's heartbeat under the viewer's path, sent with no cookie as the sandboxed page sends it",
        served.status == 200,
        "HTTP 200",
        served.status,
    )?;
    let (status, headers) = browser
        .preflight(&viewer, &format!("API/v1/Json.asmx/{method}"))
        .await?;
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let credentials = header("access-control-allow-credentials");
    let origin = header("access-control-allow-origin");
    ev.expect(
        "preflight-grants-no-credentials",
        "the cloud's answer to the page's CORS preflight for a call",
        (200..300).contains(&status) && origin.as_deref() == Some("*") && credentials.is_none(),
        "2xx, Access-Control-Allow-Origin: *, no Access-Control-Allow-Credentials",
        json!({ "status": status, "headers": headers }),
    )?;

    // Capabilities that are not this link's viewer: refused, and nothing carried out.
    let link_base = viewer
        .base
        .split_once("/v/")
        .map(|(link, _)| format!("{link}/"))
        .ok_or_else(|| Failure::Harness(format!("no capability in {}", viewer.base)))?;
    let other_capability = other
        .base
        .split_once("/v/")
        .map(|(_, capability)| capability.to_owned())
        .unwrap_or_default();
    let forged = [
        (
            "another link's capability",
            format!("{link_base}v/{other_capability}"),
        ),
        (
            "a made-up capability",
            format!("{link_base}v/{}/", random_token(32)),
        ),
        ("the link's path with no capability", link_base.clone()),
    ];
    let mut answers = Vec::new();
    let from = env.dma().executed().len();
    for (what, base) in forged {
        let forged = Viewer { base };
        let definition = browser
            .send(&forged, reqwest::Method::GET, "definition", &[], None)
            .await?;
        let call = browser.call(&forged, method, parameters).await?;
        answers.push(json!({ "case": what, "definition": definition.status, "call": call.status }));
    }
    let carried_out = env.dma().executed().since(from);
    ev.expect(
        "forged-viewer-urls-refused",
        "the definition and a call under the link with capabilities not its viewer's: statuses, and what the DMA carried out",
        answers
            .iter()
            .all(|a| a["definition"] != 200 && a["call"] != 200)
            && carried_out.is_empty(),
        "no 200, nothing carried out",
        json!({ "answers": answers, "carried_out": carried_out }),
    )?;

    // The account signs out: its viewer's URL opens nothing any more.
    let out = browser.sign_out().await?;
    let from = env.dma().executed().len();
    let definition = browser
        .send(&viewer, reqwest::Method::GET, "definition", &[], None)
        .await?;
    let call = browser.call(&viewer, method, parameters).await?;
    let carried_out = env.dma().executed().since(from);
    ev.expect(
        "signed-out-viewer-url-refused",
        "the viewer's definition and a call after its account signed out: statuses, and what the DMA carried out",
        definition.status != 200 && call.status != 200 && carried_out.is_empty(),
        "no 200, nothing carried out",
        json!({ "sign_out": out, "definition": definition.status, "call": call.status, "carried_out": carried_out }),
    )?;

    // Signed in again, a viewer opened, then nothing used for longer than a sign-in lasts idle:
    // the viewer's URL went with the sign-in that opened it.
    let account = env.accounts().cloud_outsider.clone();
    browser.sign_in(&account.email, &account.password).await?;
    let idle = Duration::from_secs(oracle::spec()?.account_sessions.idle_seconds);
    let (lapsing, _) = live::open_viewer(&browser, second.link_for(&email)?).await?;
    steps::let_time_pass(&env, idle + Duration::from_secs(60), 6).await;
    let from = env.dma().executed().len();
    let call = browser.call(&lapsing, method, parameters).await?;
    let carried_out = env.dma().executed().since(from);
    ev.expect(
        "viewer-ends-with-its-sign-in",
        "a call under a viewer's URL once the sign-in that opened it lay unused past its idle lifetime (fixtures: account_sessions.idle_seconds): status, and what the DMA carried out",
        call.status != 200 && carried_out.is_empty(),
        "no 200, nothing carried out",
        json!({ "idle_seconds": idle.as_secs(), "call": call.status, "carried_out": carried_out }),
    )?;

    // Signed in again, a viewer opened, then the page's requests only, for longer than a
    // sign-in lasts idle: the page (whose DMS can read its URL) does not keep the sign-in
    // alive, so the sign-in lapses, and the viewer's URL with it.
    browser.sign_in(&account.email, &account.password).await?;
    let (kept, _) = live::open_viewer(&browser, first.link_for(&email)?).await?;
    let step = idle * 2 / 3;
    steps::let_time_pass(&env, step, 4).await;
    let midway = browser.heartbeat(&kept).await?.status;
    steps::let_time_pass(&env, step, 4).await;
    let page_after = browser.call(&kept, method, parameters).await?.status;
    let own_after = browser.get("api/shares").await?.status;
    ev.expect(
        "page-requests-do-not-keep-the-sign-in",
        "a viewer's page requests at two thirds of the sign-in's idle lifetime (fixtures: account_sessions.idle_seconds), then at four thirds with nothing else sent: the page's call, and the account's own list with its sign-in",
        midway == 200 && page_after != 200 && own_after != 200,
        "served midway; then the call and the sign-in both refused",
        json!({ "idle_seconds": idle.as_secs(), "midway": midway, "call after": page_after, "own list after": own_after }),
    )
}
