//! SHARE-5 across states: a share ends on the cloud as soon as the cloud can know. Swept, each
//! with its own share and viewer: deleted while the cloud's API is unreachable from the DMS
//! (its connections reset, the tunnels still up), in the middle of a failing renewal, across
//! a cloud restart, across a restart of the DMS's gateway, with the gateway disconnected by
//! the Administrator; and expired while the
//! gateway is disconnected (the cloud's own to end). The verdict is what the recipient's
//! browser gets (the link, the open viewer's heartbeat), and what the DMA told the user who
//! deleted the share meanwhile.

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

/// The state the DMS (or the cloud) is in when the share ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
enum State {
    /// Every connection of the DMS to the connection endpoint is reset; tunnels stay up.
    ApiUnreachable,
    /// As above, while the daily renewal falls due and fails, to be retried.
    MidRenewal,
    /// As above, and the cloud restarts before the DMS reaches it again.
    AcrossCloudRestart,
    /// As above, and the DMS's Cloud Gateway restarts before it reaches the cloud again: only
    /// what it kept on the DMS's disk is left of the pending end.
    AgentRestartedWhileOffline,
    /// The Administrator disconnected the gateway.
    Disconnected,
    /// The share's expiry passes while the gateway is disconnected: the cloud's own to end.
    ExpiredWhileDisconnected,
}

/// One row of the sweep: the state, what the DMA answered the deletion (none for an
/// expiry), and what the recipient got once the cloud could know.
#[derive(Debug, serde::Serialize)]
struct Row {
    state: State,
    delete_answer: Option<DmaReply>,
    link_after: u16,
    heartbeat_after: u16,
}

/// A live share with its recipient's open viewer.
async fn viewed_share(
    env: &Environment,
    admin: &DmaSession,
    recipient: &ShareRecipient,
    email: &str,
    extra: Value,
) -> Result<(live::Shared, String, Viewer), Failure> {
    let shared = live::share(env, admin, DASHBOARD, &[email], extra).await?;
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
    let spec = oracle::spec()?;
    let gone = spec.sharing.gone_status;
    let retry = Duration::from_secs(spec.token.refresh_retry_seconds);
    let day = Duration::from_secs(spec.token.renew_every_seconds);
    let mut admin = live::connected(&env).await?;
    let (email, mut partner) = live::partner(&env).await?;
    let to_api = env
        .hop(Hop::DmsToCloud(Endpoint::Connection))
        .ok_or_else(|| Failure::Harness("no toxics on the DMS's hop to the cloud".into()))?;
    let cut_api = || {
        to_api.add_both(Toxic::ResetPeer {
            after: Duration::ZERO,
        });
    };
    let mut rows = Vec::new();
    for state in [
        State::ApiUnreachable,
        State::MidRenewal,
        State::AcrossCloudRestart,
        State::AgentRestartedWhileOffline,
        State::Disconnected,
        State::ExpiredWhileDisconnected,
    ] {
        let lifetime = 3600;
        let extra = match state {
            State::ExpiredWhileDisconnected => {
                json!({ "expiresAt": env.clock().unix_seconds() + lifetime })
            }
            _ => json!({}),
        };
        let (shared, link, viewer) = viewed_share(&env, &admin, &partner, &email, extra).await?;
        match state {
            State::ApiUnreachable
            | State::AcrossCloudRestart
            | State::AgentRestartedWhileOffline => cut_api(),
            State::MidRenewal => {
                cut_api();
                // The renewal falls due and fails while the share is deleted.
                env.advance(day).await;
            }
            State::Disconnected | State::ExpiredWhileDisconnected => {
                admin.expect_data("DisconnectFromCloud", json!({})).await?;
            }
        }
        let delete_answer = match state {
            State::ExpiredWhileDisconnected => None,
            _ => Some(
                admin
                    .call("DeleteShare", json!({ "shareID": shared.share_id }))
                    .await?,
            ),
        };
        // The cloud can know: the DMS reaches it again, or the expiry passes.
        match state {
            State::ApiUnreachable | State::MidRenewal => to_api.clear(),
            State::AcrossCloudRestart => {
                env.cloud()
                    .restart()
                    .await
                    .map_err(|e| Failure::Harness(format!("the cloud did not restart: {e}")))?;
                to_api.clear();
                // The restart closed every connection; a browser whose pooled connection was
                // closed under it retries on a new one. A new browser, signed in again, does
                // so at once (the viewer session belongs to the account, not the browser).
                partner = live::partner(&env).await?.1;
            }
            State::AgentRestartedWhileOffline => {
                env.restart_agent().await.map_err(|e| {
                    Failure::Harness(format!("the DMS's gateway did not restart: {e}"))
                })?;
                to_api.clear();
            }
            State::Disconnected => admin = steps::connect_dms(&env).await?,
            State::ExpiredWhileDisconnected => {
                env.advance(Duration::from_secs(lifetime + 60)).await;
            }
        }
        env.advance(retry).await;
        let link_after = partner.open(&link).await?.status;
        let heartbeat_after = partner.heartbeat(&viewer).await?.status;
        rows.push(Row {
            state,
            delete_answer,
            link_after,
            heartbeat_after,
        });
        if matches!(
            state,
            State::AcrossCloudRestart | State::AgentRestartedWhileOffline
        ) {
            // The next row's viewer needs the tunnels the restart ended.
            steps::let_time_pass(&env, Duration::from_secs(300), 30).await;
            steps::tunnels_up(&env).await?;
        }
    }
    ev.saw("endings × states (the sweep's matrix)", &rows);
    for row in &rows {
        let ending = match row.state {
            State::ExpiredWhileDisconnected => "expiry",
            _ => "deletion",
        };
        ev.row(
            "share endings × states",
            format!("{ending} {:?}", row.state),
            "the link, then the open viewer's heartbeat, once the cloud could know",
            format!("HTTP {} / HTTP {}", row.link_after, row.heartbeat_after),
        );
    }
    let ended = |r: &Row| r.link_after == gone && r.heartbeat_after == gone;
    ev.expect(
        "share-deleted-offline-ends-when-the-dms-is-back",
        "the link and the open viewer's heartbeat once the cloud could know, per deletion state: HTTP statuses",
        rows.iter()
            .filter(|r| r.state != State::ExpiredWhileDisconnected)
            .all(ended),
        &format!("{gone} and {gone} in every state"),
        rows.iter()
            .map(|r| (r.state, r.link_after, r.heartbeat_after))
            .collect::<Vec<_>>(),
    )?;
    ev.expect(
        "share-expired-offline-ends-on-the-cloud",
        "the link and the open viewer's heartbeat after the expiry passed with the DMS disconnected",
        rows.iter()
            .filter(|r| r.state == State::ExpiredWhileDisconnected)
            .all(ended),
        &format!("{gone} and {gone}"),
        rows.iter()
            .filter(|r| r.state == State::ExpiredWhileDisconnected)
            .map(|r| (r.link_after, r.heartbeat_after))
            .collect::<Vec<_>>(),
    )?;
    let told = |answer: &DmaReply| match answer {
        DmaReply::Data(d) => d.get("CloudEndPending").and_then(Value::as_bool) == Some(true),
        DmaReply::Error { .. } => false,
    };
    ev.expect(
        "dma-tells-its-user-the-end-is-pending",
        "the DMA's answer to DeleteShare while the cloud could not be told, per state",
        rows.iter()
            .filter_map(|r| r.delete_answer.as_ref())
            .all(told),
        "the share ended on the DMS, the cloud's end marked pending",
        rows.iter()
            .map(|r| (r.state, &r.delete_answer))
            .collect::<Vec<_>>(),
    )
}
