//! Cookie eviction from a shared dashboard: a browser keeps a bounded number of cookies per
//! site (dataminer.services, every host of it together) and, past it, drops the least recently
//! used, HttpOnly ones included. A DMS's page that could write cookies on the sharing host
//! writes a few hundred, the recipient's sessions on the sharing and the connection host are
//! dropped, and the page then sets a session of the attacker's account under the cloud's own
//! cookie name: the recipient is signed out everywhere, and signed in as the attacker on the
//! sharing host. The cloud sandboxes the page (no cookie of the site's is its to write), so the
//! browser is still the recipient's on both hosts afterwards, and its dashboard still live.
//! A copied viewer URL, opened as a page in a browser that is not signed in as the account the
//! viewer was opened for, opens nothing. Judged in a real browser, by what the cloud served it.

use fantoccini::{Client, Locator};
use mocks::Environment;
use mocks::cloud::Endpoint;
use serde_json::json;

use super::browser_page::{base_url, reopen, settle, shows_live, sign_in, text_of};
use crate::clients::CloudClient;
use crate::{Ctx, Failure, steps};

/// How many cookies the page writes: more than any browser keeps for one site (Chromium: 180).
const FLOOD: usize = 400;

/// The page writes `FLOOD` cookies, then the attacker's session under the cloud's cookie name;
/// the browser then opens the sharing host's share list and the connection host's device page
/// (the recipient's before, still the recipient's after) and the dashboard again (still live).
pub(super) async fn page_cannot_evict_the_sites_cookies(
    ctx: &Ctx,
    env: &Environment,
    client: &Client,
    viewer_url: &str,
    expected: &[String],
) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let recipient = env.accounts().cloud_outsider.clone();
    let attacker = env.accounts().cloud_member.clone();
    let sharing = base_url(env, Endpoint::Sharing)?;
    let connection = base_url(env, Endpoint::Connection)?;
    let goto = |e: fantoccini::error::CmdError| {
        Failure::precondition("opening a page", "the page", e.to_string())
    };
    let shares = format!("{sharing}/api/shares");
    let device = format!("{connection}/device");

    // The recipient signed in on the connection host too, as one who approves DMSs there.
    client.goto(&device).await.map_err(goto)?;
    if client
        .find(Locator::Css("form[action='/account/login']"))
        .await
        .is_ok()
    {
        sign_in(client, &recipient.email, &recipient.password).await?;
    }
    let signed_in = format!("Signed in as {}", recipient.email);
    settle(|| async { text_of(client, "body").await.contains(&signed_in) }).await;
    let device_before = text_of(client, "body").await;
    if !device_before.contains(&signed_in) {
        return Err(Failure::precondition(
            "signing the recipient in on the connection host",
            signed_in,
            device_before,
        ));
    }
    client.goto(&shares).await.map_err(goto)?;
    let list_before = text_of(client, "body").await;

    // Back on the dashboard, the page writes its cookies.
    reopen(client, viewer_url).await?;
    if !shows_live(client, expected).await {
        return Err(Failure::precondition(
            "reopening the dashboard",
            "the live dashboard",
            text_of(client, "#viewer").await,
        ));
    }
    let cookie = steps::sign_in(&CloudClient::new(env)?, &attacker).await?;
    let session = cookie.split(';').next().unwrap_or_default().to_owned();
    let script = "const [count, session] = arguments; const out = { written: 0, error: null }; \
                  try { \
                    for (let i = 0; i < count; i++) { \
                      document.cookie = 'flood' + i + '=' + i + '; Path=/; Secure; SameSite=Lax'; \
                      out.written++; \
                    } \
                    document.cookie = session + '; Path=/; Secure; SameSite=Lax'; \
                  } catch (e) { out.error = String(e); } \
                  return out;";
    let wrote = client
        .execute(script, vec![json!(FLOOD), json!(session)])
        .await
        .map_err(|e| Failure::Harness(format!("running a script in the page: {e}")))?;
    ev.saw("what the page's cookie flood did", &wrote);

    client.goto(&shares).await.map_err(goto)?;
    let list_after = text_of(client, "body").await;
    client.goto(&device).await.map_err(goto)?;
    settle(|| async { !text_of(client, "body").await.is_empty() }).await;
    let device_after = text_of(client, "body").await;
    ev.expect(
        "a-page-cannot-evict-the-sites-cookies",
        "the sharing host's share list and the connection host's device page, after the page wrote its cookies and the attacker's session",
        list_after == list_before && device_after == device_before,
        &format!("unchanged: the share list {list_before:?}, the device page {device_before:?}"),
        json!({ "share list": list_after, "device page": device_after }),
    )?;

    reopen(client, viewer_url).await?;
    let live = shows_live(client, expected).await;
    ev.expect(
        "dashboard-still-live-after-the-cookie-flood",
        "the dashboard reopened after the page wrote its cookies",
        live,
        "live DMA data",
        text_of(client, "#viewer").await,
    )
}

/// A viewer's URL, copied out of the recipient's address bar, opened as a page in the browser
/// as it is now (signed in as `who`, or not at all): what it got.
pub(super) async fn open_copied_viewer_url(
    client: &Client,
    viewer_url: &str,
    expected: &[String],
    who: Option<&str>,
) -> Result<serde_json::Value, Failure> {
    client.goto(viewer_url).await.map_err(|e| {
        Failure::precondition("opening the copied viewer URL", "a page", e.to_string())
    })?;
    // Either the cloud's refusal (its JSON error, shown as text), or a page that frames the
    // DMS's, or the app itself having refreshed: whichever comes, the page is judged then,
    // inside its frame when it has one.
    let ready = || async {
        client
            .source()
            .await
            .is_ok_and(|page| page.contains("\"error\""))
            || client.find(Locator::Css("iframe")).await.is_ok()
            || text_of(client, "#state").await.ends_with('Z')
    };
    settle(ready).await;
    if let Ok(frame) = client.find(Locator::Css("iframe")).await {
        frame.enter_frame().await.map_err(|e| {
            Failure::precondition("entering the tab's frame", "the frame", e.to_string())
        })?;
        settle(|| async {
            client
                .source()
                .await
                .is_ok_and(|page| page.contains("\"error\""))
                || text_of(client, "#state").await.ends_with('Z')
        })
        .await;
    }
    let page = client.source().await.unwrap_or_default();
    let leaked: Vec<&String> = expected
        .iter()
        .filter(|t| page.contains(t.as_str()))
        .collect();
    Ok(json!({
        "signed in as": who,
        "app served": page.contains("data-app=\"shared-dashboard\""),
        "leaked": leaked,
        "page": text_of(client, "body").await.chars().take(200).collect::<String>(),
    }))
}

/// Whether none of `seen` (`open_copied_viewer_url`'s answers) got the app or its data.
pub(super) fn opened_nothing(seen: &[serde_json::Value]) -> bool {
    seen.iter()
        .all(|s| s["app served"] == false && s["leaked"].as_array().is_some_and(Vec::is_empty))
}
