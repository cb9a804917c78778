//! Cookie tossing on dataminer.services: the DMS's page runs on the sharing host, a sibling of
//! the connection host under dataminer.services. A page that sets a cookie of the cloud's
//! session name for the whole domain, or for a narrower path of its own host, would make the
//! recipient's browser act as an account the page chose (a login the attacker holds: the
//! recipient then approves a DMS into, or reads the shares of, the attacker's organisation).
//! The DMS's page is sandboxed (it sets no cookie at all); the cookie's `__Host-` prefix is
//! the layer below, for any script that runs on a dataminer.services host, so the same cookies
//! are then set by a script in a page of the sharing host's own origin. Judged in a real
//! browser, by what the cloud served it afterwards.

use fantoccini::Client;
use mocks::Environment;
use mocks::cloud::Endpoint;
use serde_json::json;

use super::browser_page::{base_url, reopen, settle, text_of};
use crate::clients::CloudClient;
use crate::{Ctx, Failure, steps};

/// The prefix a browser holds to the host that set the cookie (RFC 6265bis §4.1.3.2).
const HOST_PREFIX: &str = "__Host-";

/// From the dashboard page the browser has open, and then from a page of the sharing host's
/// own origin, a script sets the attacker's session cookie for the domain and for a narrower
/// path of its host, under the name the cloud uses and under that name unprefixed; then the
/// browser opens the connection host's device page and the sharing host's share list, as the
/// recipient would next.
pub(super) async fn page_cannot_toss_a_session(
    ctx: &Ctx,
    env: &Environment,
    client: &Client,
) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let attacker = env.accounts().cloud_member.clone();
    let sharing = base_url(env, Endpoint::Sharing)?;
    let connection = base_url(env, Endpoint::Connection)?;
    let goto = |e: fantoccini::error::CmdError| {
        Failure::precondition("opening a page", "the page", e.to_string())
    };

    // What the recipient's own session lists, before the page does anything.
    let shares = format!("{sharing}/api/shares");
    let page = client.current_url().await.map_err(goto)?;
    client.goto(&shares).await.map_err(goto)?;
    let own_list = text_of(client, "body").await;
    reopen(client, page.as_str()).await?;

    // The attacker's own session, as the cloud hands it to anyone who signs in.
    let cookie = steps::sign_in(&CloudClient::new(env)?, &attacker).await?;
    let (name, value) = cookie.split_once('=').ok_or_else(|| {
        Failure::precondition("the attacker's sign-in", "a name=value cookie", &cookie)
    })?;
    let value = value.split(';').next().unwrap_or_default();
    let unprefixed = name.trim_start_matches(HOST_PREFIX);
    let mut tossed = Vec::new();
    for name in [name, unprefixed] {
        for scope in ["Domain=dataminer.services; Path=/", "Path=/api"] {
            tossed.push(format!("{name}={value}; {scope}; Secure; SameSite=Lax"));
        }
    }
    let script = "arguments[0].forEach(c => { try { document.cookie = c; } catch (e) {} }); \
                  try { return document.cookie.length; } catch (e) { return -1; }";
    let toss = |at: &'static str| {
        let tossed = json!(tossed);
        async move {
            client
                .execute(script, vec![tossed])
                .await
                .map_err(|e| Failure::Harness(format!("running a script in {at}: {e}")))
        }
    };
    let from_page = toss("the dashboard page").await?;
    client.goto(&shares).await.map_err(goto)?;
    let from_host = toss("a page of the sharing host").await?;
    ev.saw(
        "the cookies a script set, and document.cookie's length after (-1: it threw)",
        json!({ "cookies": tossed, "dashboard page": from_page, "sharing host's page": from_host }),
    );

    client
        .goto(&format!("{connection}/device"))
        .await
        .map_err(goto)?;
    settle(|| async { !text_of(client, "body").await.is_empty() }).await;
    let device_page = text_of(client, "body").await;
    ev.expect(
        "page-cannot-toss-a-session-to-the-connection-host",
        "the connection host's device page, opened after the page set the attacker's session for the domain",
        !device_page.contains(&attacker.email),
        &format!("not signed in as {}", attacker.email),
        &device_page,
    )?;

    client.goto(&shares).await.map_err(goto)?;
    let list_after = text_of(client, "body").await;
    ev.expect_eq(
        "page-cannot-shadow-the-recipients-session",
        "the sharing host's share list after the page set the attacker's session on a narrower path",
        own_list,
        list_after,
    )
}
