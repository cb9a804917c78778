//! A recipient who keeps reopening their link (TUN-1, SHARE-3). Each opening is a new viewer
//! session at the cloud, and the Cloud Gateway signs the share's user in on the DMA for each
//! new viewer; nothing the cloud's side sends may pile those sessions up in the DMA's table.
//! Recipients open their links three times the project's bound
//! (`fixtures/spec.json`, `sharing.gateway_sessions_per_share`), each time in a browser of its
//! own (a new window, device or script: a new viewer), and call through each viewer: the first
//! viewer is one recipient's, every later one another's (the cloud bounds each account's
//! viewers of a link on its own side, `cloud_viewers`). The
//! verdict is the DMA's: its session table for the share's user, and the sign-ins and
//! `LogOut`s it carried out as that user. The newest viewer shows the dashboard, and the
//! first, whose session went long ago, is served again when it comes back.

use std::collections::BTreeSet;

use mocks::Environment;
use mocks::dma::ExecutedCall;
use serde_json::json;

use super::live::{self, Shared};
use crate::clients::{ShareRecipient, Viewer};
use crate::{Ctx, Failure, oracle};

const DASHBOARD: &str = "core-network";

/// Openings per session the bound allows.
const OPENINGS_PER_SESSION: usize = 3;

pub(super) async fn reopening_keeps_dma_sessions_bounded(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let bound = oracle::spec()?.sharing.gateway_sessions_per_share;
    let expected = live::expected_texts(DASHBOARD)?;
    let admin = live::connected(&env).await?;
    let (email, first) = live::partner(&env).await?;
    let shared = live::share(
        &env,
        &admin,
        DASHBOARD,
        &[&email, live::NEW_ADDRESS],
        json!({}),
    )
    .await?;
    // The first viewer is the partner's; every later one is a second recipient's (an account
    // made for its address), whose openings the cloud bounds on its own side per account and
    // link: the first viewer stays open at the cloud while the gateway lets its session go.
    let mut creator = ShareRecipient::new(&env)?;
    creator
        .sign_up(&env, live::NEW_ADDRESS, SECOND_PASSWORD)
        .await?;
    let first_link = shared.link_for(&email)?.to_owned();
    let link = shared.link_for(live::NEW_ADDRESS)?.to_owned();

    let mut viewers: Vec<(ShareRecipient, Viewer)> = Vec::new();
    let mut statuses = Vec::new();
    let mut table = Vec::new();
    let mut last_beat = None;
    for opening in 0..OPENINGS_PER_SESSION * bound {
        let (browser, link) = if opening == 0 {
            (first.clone(), &first_link)
        } else {
            (second_recipient(&env).await?, &link)
        };
        let (viewer, _) = live::open_viewer(&browser, link).await?;
        let beat = browser.heartbeat(&viewer).await?;
        statuses.push(beat.status);
        table.push(env.dma().open_share_sessions(&shared.share_id));
        viewers.push((browser, viewer));
        last_beat = Some(beat);
    }
    let most = table.iter().copied().max().unwrap_or_default();
    let from_log = open_by_the_log(&env.dma().executed().all(), &shared);
    ev.expect(
        "dma-share-sessions-bounded",
        &format!(
            "the share user's open sessions in the DMA's table after each of {} openings of the link, and open by the DMA's sign-ins and LogOuts",
            table.len()
        ),
        most <= bound && from_log.len() <= bound,
        &format!("at most {bound} (fixtures: sharing.gateway_sessions_per_share), by both"),
        json!({ "table_after_each_opening": table, "open_by_the_log": from_log.len() }),
    )?;

    let newest = last_beat.ok_or_else(|| Failure::Harness("no opening was made".into()))?;
    let missing: Vec<&String> = expected
        .iter()
        .filter(|t| !newest.body.contains(t.as_str()))
        .collect();
    ev.expect(
        "newest-viewer-shows-the-dashboard",
        "the newest viewer's heartbeat: element names and alarm values (fixtures) missing",
        newest.status == 200 && missing.is_empty(),
        "none missing, heartbeat HTTP 200",
        json!({ "missing": missing, "heartbeat_status": newest.status }),
    )?;
    ev.expect(
        "every-new-viewer-served",
        "each new viewer's first heartbeat: HTTP statuses",
        statuses.iter().all(|s| *s == 200),
        "200 for each",
        &statuses,
    )?;

    // The first viewer's session went long ago: it comes back and is served, and the table
    // still holds no more than the bound.
    let (first_browser, first_viewer) = viewers
        .first()
        .ok_or_else(|| Failure::Harness("no opening was made".into()))?;
    let again = first_browser.heartbeat(first_viewer).await?;
    let after = env.dma().open_share_sessions(&shared.share_id);
    ev.expect(
        "an-earlier-viewer-is-served-again",
        "the first viewer's heartbeat after all the openings, and the share user's open sessions in the DMA's table then",
        again.status == 200 && after <= bound,
        &format!("HTTP 200, at most {bound} open"),
        json!({ "heartbeat_status": again.status, "open_sessions": after }),
    )
}

/// The second recipient's password (the account the scenario makes for its address).
const SECOND_PASSWORD: &str = "a long enough password";

/// The second recipient signed in in a browser of its own.
async fn second_recipient(env: &Environment) -> Result<ShareRecipient, Failure> {
    let mut browser = ShareRecipient::new(env)?;
    browser.sign_in(live::NEW_ADDRESS, SECOND_PASSWORD).await?;
    Ok(browser)
}

/// The share user's sessions the DMA opened (`ConnectApp`) and did not end (`LogOut`), by
/// its record of what it carried out.
fn open_by_the_log(executed: &[ExecutedCall], shared: &Shared) -> BTreeSet<String> {
    let mine = |c: &&ExecutedCall| c.share.as_deref() == Some(shared.share_id.as_str());
    let ended: BTreeSet<&str> = executed
        .iter()
        .filter(mine)
        .filter(|c| c.method == "LogOut")
        .map(|c| c.connection.as_str())
        .collect();
    executed
        .iter()
        .filter(mine)
        .filter(|c| c.method == "ConnectApp" && !ended.contains(c.connection.as_str()))
        .map(|c| c.connection.clone())
        .collect()
}
