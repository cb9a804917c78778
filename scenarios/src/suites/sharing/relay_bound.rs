//! One viewer cannot hold the cloud's relay without bound (TUN-1, DOS-1): with the DMS's side
//! holding every request (a black hole between the WAF and the DMA), a recipient's viewer fills
//! its bound of requests in flight (`fixtures/spec.json`, `sharing.relay_requests_per_viewer`);
//! its next request is refused at once with 429 and never reaches the DMS, while another
//! recipient's viewer is still carried through. Once the held requests end, the first viewer is
//! served again.
//!
//! Judged on the far side: the streams the DMS's Cloud Gateway received through its tunnels,
//! and the statuses the recipients' browsers got.

use std::time::Duration;

use mocks::Hop;
use mocks::world::net::{Direction, Toxic};
use serde_json::json;
use tokio::task::JoinSet;

use super::live;
use crate::clients::{Seen, ShareRecipient, Viewer};
use crate::{Ctx, Failure, oracle};

const DASHBOARD: &str = "core-network";

/// How long the held requests may take to reach the DMS's side: a burst of requests through
/// TLS, the relay, the tunnel and the agent on a loaded 2-core machine, well within the
/// relay's and the agent's 30 s bound on a DMS's answer, which would end them.
const ARRIVALS: Duration = Duration::from_secs(15);
/// How long the held requests may take to end once the hop heals.
const ENDING: Duration = Duration::from_secs(60);

pub(super) async fn one_viewer_cannot_hold_the_relay(ctx: Ctx) -> Result<(), Failure> {
    let bound = oracle::spec()?.sharing.relay_requests_per_viewer;
    let mut options = ctx.options();
    options.proxied_hops = true;
    let env = ctx.environment_with(options).await?;
    let ev = ctx.evidence();
    let hop = env
        .hop(Hop::WafToDma)
        .ok_or_else(|| Failure::Harness("no toxics between the WAF and the DMA".into()))?;
    let admin = live::connected(&env).await?;
    let (email, browser) = live::partner(&env).await?;
    let other_browser = live::someone_else(&env).await?;
    let other_email = env.accounts().cloud_admin.email.clone();
    let shared = live::share(&env, &admin, DASHBOARD, &[&email, &other_email], json!({})).await?;
    let (viewer, _) = live::open_viewer(&browser, shared.link_for(&email)?).await?;
    let (other, _) = live::open_viewer(&other_browser, shared.link_for(&other_email)?).await?;
    let calls = live::dashboard_calls(DASHBOARD)?;
    let (method, parameters) = calls
        .first()
        .cloned()
        .ok_or_else(|| Failure::Harness(format!("{DASHBOARD} has no call")))?;
    // Both viewers served before: their sessions on the DMA are open.
    for (who, browser, viewer) in [
        ("the first", &browser, &viewer),
        ("the other", &other_browser, &other),
    ] {
        let served = browser.call(viewer, &method, &parameters).await?;
        if served.status != 200 {
            return Err(Failure::precondition(
                format!("{who} viewer's call before the DMS's side holds"),
                "HTTP 200",
                served.status,
            ));
        }
    }
    let call = |browser: &ShareRecipient, viewer: &Viewer| {
        let (browser, viewer, method, parameters) = (
            browser.clone(),
            viewer.clone(),
            method.clone(),
            parameters.clone(),
        );
        async move { browser.call(&viewer, &method, &parameters).await }
    };

    // The DMS's side holds every request from now on; the first viewer fills its bound.
    hop.add(Direction::Upstream, Toxic::Timeout { close_after: None });
    let received = env.agent_streams();
    let before = received.len();
    let mut held: JoinSet<Result<Seen, Failure>> = JoinSet::new();
    for _ in 0..bound {
        held.spawn(call(&browser, &viewer));
    }
    if !received.wait_for_len(before + bound, ARRIVALS).await {
        return Err(Failure::precondition(
            format!("{bound} requests of the viewer held at the DMS's side"),
            format!("{bound} streams received by the Cloud Gateway"),
            received.len() - before,
        ));
    }

    // One more of the same viewer: refused at once, or carried into the tunnel.
    let mut past = JoinSet::new();
    past.spawn(call(&browser, &viewer));
    let outcome = tokio::select! {
        answer = past.join_next() => match answer {
            Some(Ok(seen)) => json!({ "answered": seen?.status }),
            Some(Err(e)) => return Err(Failure::Harness(format!("the request failed: {e}"))),
            None => return Err(Failure::Harness("no request".into())),
        },
        reached = received.wait_for_len(before + bound + 1, ARRIVALS) => {
            if !reached {
                return Err(Failure::timeout("the request past the bound answered", ARRIVALS));
            }
            json!({ "answered": null })
        }
    };
    let reached = received.len() - before - bound;
    ev.expect(
        "viewer-past-its-bound-refused-at-once",
        "the viewer's next request while its bound of requests is held: what its browser got, and the streams of it the DMS's side received",
        outcome["answered"] == 429 && reached == 0,
        "HTTP 429 at once, nothing received by the DMS's side",
        json!({ "bound": bound, "outcome": outcome, "reached_the_dms_side": reached }),
    )?;

    // Another recipient's viewer is still carried to the DMS.
    let other_before = received.len();
    let mut others = JoinSet::new();
    others.spawn(call(&other_browser, &other));
    let carried = received.wait_for_len(other_before + 1, ARRIVALS).await;
    ev.expect(
        "another-viewer-still-carried",
        "another recipient's call while the first viewer holds its bound: whether the DMS's side received it",
        carried,
        "received",
        carried,
    )?;

    // The DMS's side answers again: the held requests end, and the first viewer is served.
    hop.clear();
    let ended = tokio::time::timeout(ENDING, async {
        let mut statuses = Vec::new();
        while let Some(done) = held.join_next().await {
            statuses.push(done.map(|seen| seen.map(|s| s.status).ok()).ok().flatten());
        }
        let other = others.join_next().await;
        (statuses, other)
    })
    .await
    .map_err(|_| Failure::timeout("the held requests to end once the hop healed", ENDING))?;
    let (statuses, other_answer) = ended;
    let other_status = other_answer
        .and_then(|r| r.ok())
        .and_then(|r| r.ok())
        .map(|s| s.status);
    ev.saw("the held requests' statuses once the hop healed", &statuses);
    ev.expect(
        "another-viewer-answered",
        "the other recipient's call once the DMS's side answers",
        other_status == Some(200),
        "HTTP 200",
        other_status,
    )?;
    let again = browser.call(&viewer, &method, &parameters).await?;
    ev.expect(
        "viewer-served-again-once-its-requests-end",
        "the first viewer's call once its held requests ended",
        again.status == 200,
        "HTTP 200",
        again.status,
    )
}
