//! SHARE-5 across the DMS's states: a share deleted while its DMS cannot tell the cloud ends
//! there as soon as the cloud can know. Two ways of being offline are swept, each with its
//! own share and viewer: the cloud's API unreachable from the DMS (its connections reset, the
//! tunnels still up), and the gateway disconnected by the Administrator, then connected again.
//! The verdict is what the recipient's browser gets once the DMS is back (the link, the open
//! viewer's heartbeat), and what the DMA told the user who deleted the share meanwhile.

use std::time::Duration;

use mocks::Environment;
use mocks::Hop;
use mocks::cloud::Endpoint;
use mocks::world::net::Toxic;
use serde_json::{Value, json};

use crate::clients::{DmaReply, DmaSession, ShareRecipient, Viewer};
use crate::suites::sharing::live;
use crate::{Ctx, Failure, oracle, steps};

const DASHBOARD: &str = "core-network";

/// How the DMS is offline when its share is deleted.
#[derive(Debug, Clone, Copy, serde::Serialize)]
enum Offline {
    /// Every connection of the DMS to the connection endpoint is reset.
    ApiUnreachable,
    /// The Administrator disconnected the gateway.
    Disconnected,
}

/// One row of the sweep: the state, what the DMA answered the deletion, and what the
/// recipient got once the DMS was back.
#[derive(Debug, serde::Serialize)]
struct Row {
    offline: Offline,
    delete_answer: DmaReply,
    link_after: u16,
    heartbeat_after: u16,
}

/// A live share with its recipient's open viewer.
async fn viewed_share(
    env: &Environment,
    admin: &DmaSession,
    recipient: &ShareRecipient,
    email: &str,
) -> Result<(live::Shared, String, Viewer), Failure> {
    let shared = live::share(env, admin, DASHBOARD, &[email], json!({})).await?;
    let link = shared.link_for(email)?.to_owned();
    let (viewer, _) = live::open_viewer(recipient, &link).await?;
    let first = recipient.heartbeat(&viewer).await?;
    if first.status != 200 {
        return Err(Failure::precondition(
            "the viewer's first heartbeat",
            "HTTP 200",
            first.status,
        ));
    }
    Ok((shared, link, viewer))
}

pub(crate) async fn a_share_deleted_offline_ends_when_the_dms_is_back(
    ctx: Ctx,
) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let gone = oracle::spec()?.sharing.gone_status;
    let admin = live::connected(&env).await?;
    let (email, partner) = live::partner(&env).await?;
    let mut rows = Vec::new();
    let mut admin = admin;
    for offline in [Offline::ApiUnreachable, Offline::Disconnected] {
        let (shared, link, viewer) = viewed_share(&env, &admin, &partner, &email).await?;
        let to_api = env
            .hop(Hop::DmsToCloud(Endpoint::Connection))
            .ok_or_else(|| Failure::Harness("no toxics on the DMS's hop to the cloud".into()))?;
        match offline {
            Offline::ApiUnreachable => {
                to_api.add_both(Toxic::ResetPeer {
                    after: Duration::ZERO,
                });
            }
            Offline::Disconnected => {
                admin.expect_data("DisconnectFromCloud", json!({})).await?;
            }
        }
        let delete_answer = admin
            .call("DeleteShare", json!({ "shareID": shared.share_id }))
            .await?;
        // The DMS comes back: its API reachable again, or connected again by its
        // Administrator; then a retry interval passes.
        match offline {
            Offline::ApiUnreachable => to_api.clear(),
            Offline::Disconnected => admin = steps::connect_dms(&env).await?,
        }
        env.advance(Duration::from_secs(
            oracle::spec()?.token.refresh_retry_seconds,
        ))
        .await;
        let link_after = partner.open(&link).await?.status;
        let heartbeat_after = partner.heartbeat(&viewer).await?.status;
        rows.push(Row {
            offline,
            delete_answer,
            link_after,
            heartbeat_after,
        });
    }
    ev.saw("endings × DMS states (the sweep's matrix)", &rows);
    let ended = |r: &Row| r.link_after == gone && r.heartbeat_after == gone;
    ev.expect(
        "share-deleted-offline-ends-when-the-dms-is-back",
        "the link and the open viewer's heartbeat once the DMS is back, per state: HTTP statuses",
        rows.iter().all(ended),
        &format!("{gone} and {gone} in every state"),
        rows.iter()
            .map(|r| (r.offline, r.link_after, r.heartbeat_after))
            .collect::<Vec<_>>(),
    )?;
    let told = |r: &Row| match &r.delete_answer {
        DmaReply::Data(d) => d.get("CloudEndPending").and_then(Value::as_bool) == Some(true),
        DmaReply::Error { .. } => false,
    };
    ev.expect(
        "dma-tells-its-user-the-end-is-pending",
        "the DMA's answer to DeleteShare while the cloud could not be told, per state",
        rows.iter().all(told),
        "the share ended on the DMS, the cloud's end marked pending",
        rows.iter()
            .map(|r| (r.offline, &r.delete_answer))
            .collect::<Vec<_>>(),
    )
}
