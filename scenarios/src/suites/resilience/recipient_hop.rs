//! A recipient whose network stops reading in the middle of a large download: the stall stays
//! on that recipient's stream. Other streams on the same tunnel are answered meanwhile, the
//! tunnel stays up, and the recipient is answered again once its network is back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mocks::Hop;
use mocks::cloud::TunnelEvent;
use mocks::world::net::{Direction, Toxic};
use serde_json::json;
use tokio::sync::Notify;

use super::viewer::{connect_app, viewer_call};
use crate::steps::{self, PROMPTLY, Recipient};
use crate::{Ctx, Failure};

/// The DataMiner API method that streams a trend, as the DMA documents it.
const TREND_METHOD: &str = "GetTrendDataForParameter";
/// About 31 MB: more than every buffer between the DMA and the recipient holds.
const POINTS: u64 = 1_000_000;
/// How long the recipient's network holds still before it drops the connection: real time.
const STALL: Duration = Duration::from_secs(2);
/// How long the download's first bytes may take: not a prompt event. An agent that reads each
/// answer whole before sending it (`agent.no-flow-control`) sends the first byte only once the
/// DMA has produced all 31 MB, which takes seconds in a debug build on a loaded 2-core machine.
const FIRST_BYTES: Duration = Duration::from_secs(60);

pub(super) async fn slow_recipient_stalls_only_itself(ctx: Ctx) -> Result<(), Failure> {
    let mut options = ctx.options();
    options.proxied_hops = true;
    let env = ctx.environment_with(options).await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let dms_id = env.accounts().dms_id.clone();
    let hop = env
        .hop(Hop::RecipientToCloud)
        .ok_or_else(|| Failure::Harness("no toxics on the recipients' hop".into()))?;
    let admin = &env.accounts().dms_admin;
    let recipient = Recipient::signed_in(&env).await?;
    let connection = recipient
        .connect_app(&dms_id, &admin.login, &admin.password)
        .await?;
    let viewer_connection = connect_app(&env).await?;
    let read = json!({
        "connection": viewer_connection, "dmaID": 2000, "elementID": 100, "parameterID": 1001,
    });
    let healthy = viewer_call(&env, "GetParameter", &read).await?;

    // The recipient's network goes still once the download is under way.
    let under_way = Arc::new(Notify::new());
    let download = {
        let (recipient, dms_id, hop, under_way) = (
            recipient.clone(),
            dms_id.clone(),
            hop.clone(),
            under_way.clone(),
        );
        let trend = json!({
            "connection": connection, "dmaID": 2000, "elementID": 100,
            "parameterID": 1001, "points": POINTS,
        });
        tokio::spawn(async move {
            let mut first = true;
            let received = recipient
                .call(&dms_id, TREND_METHOD, &trend, |_| {
                    if std::mem::take(&mut first) {
                        hop.add(
                            Direction::Downstream,
                            Toxic::Timeout {
                                close_after: Some(STALL),
                            },
                        );
                        under_way.notify_one();
                    }
                })
                .await;
            (received.map(|r| r.bytes), Instant::now())
        })
    };
    tokio::time::timeout(FIRST_BYTES, under_way.notified())
        .await
        .map_err(|_| {
            Failure::timeout("the first bytes of the recipient's download", FIRST_BYTES)
        })?;
    let stalled_at = env.clock().unix_seconds();
    // Two calls: the cloud takes the DMS's tunnels in turn, so one shares the stalled tunnel.
    let answer = || async {
        let answer = viewer_call(&env, "GetParameter", &read).await;
        (answer, Instant::now())
    };
    let ((first, first_at), (second, second_at)) = tokio::join!(answer(), answer());
    let during = vec![first?, second?];
    let answered = first_at.max(second_at);
    let (downloaded, ended) = tokio::time::timeout(PROMPTLY + STALL, download)
        .await
        .map_err(|_| Failure::timeout("the stalled download to end", PROMPTLY + STALL))?
        .map_err(|e| Failure::Harness(format!("the download task failed: {e}")))?;
    hop.clear();
    ev.saw(
        "the stalled download: bytes received, or how it failed",
        downloaded.map_err(|f| f.to_string()),
    );
    ev.expect_eq(
        "other-streams-answered-during-the-stall",
        "what two other calls on the DMS's tunnels got while the recipient stalled",
        vec![healthy.clone(), healthy],
        during,
    )?;
    ev.expect(
        "answered-before-the-stall-ended",
        "the later of the other calls' answers, against the end of the stalled download",
        answered < ended,
        "earlier: the stall holds only its own stream",
        if answered < ended {
            format!("{} ms before", (ended - answered).as_millis())
        } else {
            format!("{} ms after", (answered - ended).as_millis())
        },
    )?;
    let closed: Vec<u64> = env
        .cloud()
        .tunnels()
        .events()
        .into_iter()
        .filter_map(|e| match e {
            TunnelEvent::Closed {
                dms_id: d, at_unix, ..
            } if d == dms_id && at_unix >= stalled_at => Some(at_unix),
            _ => None,
        })
        .collect();
    ev.expect(
        "tunnel-stays-up-through-the-stall",
        "tunnels of the DMS the cloud saw close during the stall",
        closed.is_empty(),
        "none",
        &closed,
    )?;
    let again = recipient
        .call_json(
            &dms_id,
            "GetParameter",
            &json!({
                "connection": connection, "dmaID": 2000, "elementID": 100, "parameterID": 1001,
            }),
        )
        .await?;
    ev.expect_eq(
        "recipient-answered-once-the-hop-heals",
        "the recipient's HTTP status once its network is back",
        200,
        again.0,
    )
}
