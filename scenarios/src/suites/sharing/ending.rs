//! SHARE-5: a share ends when its owner deletes it or when its expiry passes. Its emailed links
//! answer Gone, its open viewers end at their next heartbeat, its user leaves the DMA's user
//! table and its whitelist the WAF; a link replayed afterwards reaches nothing on the DMA.

use std::time::Duration;

use mocks::Environment;
use serde_json::json;

use super::live::{self, Shared};
use crate::clients::{ShareRecipient, Viewer};
use crate::{Ctx, Failure, oracle};

const DASHBOARD: &str = "soc-overview";

/// How the share is ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Deleted,
    Expired,
}

/// Named per ending, so each scenario's checks say which way the share ended.
fn label(ending: Ending, deleted: &'static str, expired: &'static str) -> &'static str {
    match ending {
        Ending::Deleted => deleted,
        Ending::Expired => expired,
    }
}

pub(super) async fn deleting_ends_everything(ctx: Ctx) -> Result<(), Failure> {
    ends_everything(ctx, Ending::Deleted).await
}

pub(super) async fn expiry_ends_everything(ctx: Ctx) -> Result<(), Failure> {
    ends_everything(ctx, Ending::Expired).await
}

async fn ends_everything(ctx: Ctx, ending: Ending) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let gone = oracle::spec()?.sharing.gone_status;
    let admin = live::connected(&env).await?;
    let (email, partner) = live::partner(&env).await?;
    let lifetime = 2 * 86_400;
    let extra = match ending {
        Ending::Deleted => json!({}),
        Ending::Expired => json!({ "expiresAt": env.clock().unix_seconds() + lifetime }),
    };
    let shared = live::share(&env, &admin, DASHBOARD, &[&email], extra).await?;
    let link = shared.link_for(&email)?.to_owned();
    let (viewer, _) = live::open_viewer(&partner, &link).await?;
    let first = partner.heartbeat(&viewer).await?;
    if first.status != 200 {
        return Err(Failure::precondition(
            "the viewer's first heartbeat",
            "HTTP 200",
            first.status,
        ));
    }
    match ending {
        Ending::Deleted => {
            admin
                .expect_data("DeleteShare", json!({ "shareID": shared.share_id }))
                .await?;
        }
        Ending::Expired => env.advance(Duration::from_secs(lifetime + 60)).await,
    }
    let ended_at = env.dma().executed().len();

    let reopened = partner.open(&link).await?;
    ev.expect_eq(
        label(
            ending,
            "emailed-link-answers-gone",
            "expired-link-answers-gone",
        ),
        "the emailed link opened again by its recipient: HTTP status",
        gone,
        reopened.status,
    )?;
    let beat = partner.heartbeat(&viewer).await?;
    ev.expect_eq(
        label(
            ending,
            "open-viewer-session-ends",
            "open-viewer-session-ends-at-expiry",
        ),
        "the open viewer's next heartbeat: HTTP status",
        gone,
        beat.status,
    )?;
    let users: Vec<String> = env
        .dma()
        .share_users()
        .into_iter()
        .map(|u| u.share_id)
        .collect();
    ev.expect(
        label(
            ending,
            "share-user-removed-from-the-dma",
            "expired-share-user-removed-from-the-dma",
        ),
        "the share users in the DMA's user table",
        !users.contains(&shared.share_id),
        &format!("none for {}", shared.share_id),
        &users,
    )?;
    let whitelist = env.waf().whitelist(&shared.share_id);
    ev.expect(
        "whitelist-retired-at-the-waf",
        "the WAF's whitelist for the share",
        whitelist.is_none(),
        "none",
        format!("{whitelist:?}"),
    )?;
    replay_reaches_nothing(&env, &ctx, &shared, &link, &viewer, ended_at).await
}

/// Replays after the end: the link and the heartbeat by the recipient, the link by someone else
/// and by nobody. None makes the DMA carry out anything.
async fn replay_reaches_nothing(
    env: &Environment,
    ctx: &Ctx,
    shared: &Shared,
    link: &str,
    viewer: &Viewer,
    ended_at: usize,
) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let other = live::someone_else(env).await?;
    let replays = [
        other.open(link).await?.status,
        other.heartbeat(viewer).await?.status,
        ShareRecipient::new(env)?.open(link).await?.status,
    ];
    ev.saw("replays after the end: HTTP statuses", replays);
    let executed = env.dma().executed().since(ended_at);
    let for_share: Vec<_> = executed
        .iter()
        .filter(|c| c.share.as_deref() == Some(shared.share_id.as_str()))
        .collect();
    ev.expect(
        "link-replay-after-the-end-reaches-nothing",
        "calls the DMA carried out on the share after it ended",
        for_share.is_empty(),
        "none",
        &for_share,
    )?;
    let record = env
        .cloud()
        .shares()
        .into_iter()
        .find(|r| r.share_id == shared.share_id);
    ev.expect(
        "cloud-record-shows-no-open-viewer",
        "the cloud's record of the share: open viewer sessions",
        record.as_ref().is_some_and(|r| r.open_sessions == 0),
        "0",
        &record,
    )
}
