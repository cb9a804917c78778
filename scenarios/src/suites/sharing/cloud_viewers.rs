//! A recipient who keeps reopening their link, as seen by the cloud (TUN-1, SHARE-3): each
//! opening opens a viewer session for the account at the cloud, and the cloud keeps no more of
//! them per account and link than the project's bound (`fixtures/spec.json`,
//! `sharing.viewer_sessions_per_account_and_link`); the oldest goes. The recipient opens the
//! link three times the bound, each time in a browser of its own. The verdict is the cloud's
//! table as the environment observes it (its share records' open sessions, not an answer the
//! cloud gives a client), the oldest viewer's URL refused on the wire with nothing carried
//! out on the DMA, and the newest viewers still served.

use serde_json::json;

use super::live;
use crate::clients::{ShareRecipient, Viewer};
use crate::{Ctx, Failure, oracle};

const DASHBOARD: &str = "core-network";

/// Openings per session the bound allows.
const OPENINGS_PER_SESSION: usize = 3;

pub(super) async fn reopening_keeps_cloud_sessions_bounded(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let bound = oracle::spec()?.sharing.viewer_sessions_per_account_and_link;
    let admin = live::connected(&env).await?;
    let (email, _) = live::partner(&env).await?;
    let shared = live::share(&env, &admin, DASHBOARD, &[&email], json!({})).await?;
    let link = shared.link_for(&email)?.to_owned();
    let open_at_the_cloud = || {
        env.cloud()
            .shares()
            .into_iter()
            .find(|r| r.share_id == shared.share_id)
            .map(|r| r.open_sessions)
    };

    let mut viewers: Vec<(ShareRecipient, Viewer)> = Vec::new();
    let mut table = Vec::new();
    for _ in 0..OPENINGS_PER_SESSION * bound {
        let (_, browser) = live::partner(&env).await?;
        let (viewer, _) = live::open_viewer(&browser, &link).await?;
        table.push(open_at_the_cloud());
        viewers.push((browser, viewer));
    }
    let most = table.iter().flatten().copied().max().unwrap_or_default();
    ev.expect(
        "cloud-viewer-sessions-bounded",
        &format!(
            "the cloud's open viewer sessions of the share (its table, as the environment observes it) after each of {} openings of the link by one account",
            table.len()
        ),
        table.iter().all(Option::is_some) && most <= bound,
        &format!(
            "at most {bound} (fixtures: sharing.viewer_sessions_per_account_and_link) after each"
        ),
        &table,
    )?;

    // The oldest viewer's session went: its URL is refused before anything reaches the DMA.
    let (oldest, oldest_viewer) = viewers
        .first()
        .ok_or_else(|| Failure::Harness("no opening was made".into()))?;
    let from = env.dma().executed().len();
    let again = oldest.heartbeat(oldest_viewer).await?;
    let carried_out = env.dma().executed().since(from).len();
    ev.expect(
        "oldest-viewer-session-refused",
        "the first viewer's heartbeat after all the openings: HTTP status, and calls the DMA carried out for it",
        (400..500).contains(&again.status) && carried_out == 0,
        "a refusal (4xx) from the cloud, nothing carried out",
        json!({ "status": again.status, "carried_out": carried_out }),
    )?;

    // The newest `bound` viewers are the ones kept: each is still served.
    let newest: Vec<u16> = {
        let mut statuses = Vec::new();
        for (browser, viewer) in viewers.iter().rev().take(bound) {
            statuses.push(browser.heartbeat(viewer).await?.status);
        }
        statuses
    };
    ev.expect(
        "newest-viewers-served",
        &format!("the newest {bound} viewers' heartbeats: HTTP statuses"),
        newest.len() == bound && newest.iter().all(|s| *s == 200),
        "200 for each",
        &newest,
    )
}
