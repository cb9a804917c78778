//! What the WAF cannot tie to a live share's viewer, sent from outside (WAF-4, SHARE-3): the
//! requests come through the cloud's sharing host and the tunnel, as a signed-in recipient
//! through their viewer or as an organisation account with remote access (a stream that
//! carries no viewer, so the Cloud Gateway attaches no share session), and must reach the WAF
//! and be refused there.
//!
//! - A connection the WAF cannot tie (none, a made-up one, a DMS user's session opened on the
//!   public API, a deleted share's, a viewer's session the gateway ended) is refused.
//! - A share's session counts only as the Cloud Gateway attached it: named in a body (by a
//!   recipient of another share, or by a remote-access account that learned it) it is refused.
//!
//! Verdicts come from the far side: the calls the DMA carried out and the requests its gateway
//! channel received while these were sent, the WAF's decisions on them, and the statuses the
//! sender got back.

use mocks::Environment;
use mocks::dma::Channel;
use mocks::waf::Verdict;
use serde_json::{Value, json};

use super::calls::Call;
use super::live;
use super::recipient_path::{self, Viewing};
use super::setup::{self, LiveShare};
use crate::clients::{DmaSession, Viewer};
use crate::steps::{self, Recipient};
use crate::{Ctx, Failure, oracle};

/// One request as its sender saw it, and what the far side saw of it.
#[derive(Debug, serde::Serialize)]
struct Sent {
    who: &'static str,
    what: String,
    status: u16,
}

/// What reached the DMS side while some requests were sent: the WAF's decisions, the requests
/// the DMA's gateway channel received, the calls it carried out (with their connection and
/// share).
#[derive(Debug, Default)]
struct FarSide {
    blocked: usize,
    decided: usize,
    arrived: Vec<String>,
    executed: Vec<(String, Option<String>, Call)>,
}

async fn far_side<F>(env: &Environment, during: F) -> Result<(Vec<Sent>, FarSide), Failure>
where
    F: std::future::Future<Output = Result<Vec<Sent>, Failure>>,
{
    let decided = env.waf().decisions().all().len();
    let arrived = env.dma().arrivals().all().len();
    let executed = env.dma().executed().len();
    let sent = during.await?;
    let decisions = env.waf().decisions().all().split_off(decided);
    Ok((
        sent,
        FarSide {
            blocked: decisions
                .iter()
                .filter(|d| d.verdict == Verdict::Blocked)
                .count(),
            decided: decisions.len(),
            arrived: env
                .dma()
                .arrivals()
                .all()
                .split_off(arrived)
                .into_iter()
                .filter(|a| a.channel == Channel::Gateway)
                .map(|a| a.path)
                .collect(),
            executed: env
                .dma()
                .executed()
                .since(executed)
                .into_iter()
                .map(|e| (e.connection, e.share, Call::read(&e.method, &e.parameters)))
                .collect(),
        },
    ))
}

/// The DMS connected; the partner account, signed in, viewing one share of each of
/// `dashboards`; an organisation Member with remote access to the DMS, signed in.
async fn outside(
    env: &Environment,
    dashboards: &[&str],
) -> Result<(DmaSession, String, Viewing, Recipient), Failure> {
    let admin = live::connected(env).await?;
    let (email, browser) = live::partner(env).await?;
    let mut viewing = Viewing {
        browser,
        live: Vec::new(),
        deleted: Vec::new(),
        viewers: Default::default(),
    };
    let all = setup::dashboards()?;
    for id in dashboards {
        let dashboard = all
            .iter()
            .find(|d| d.id == *id)
            .ok_or_else(|| Failure::Harness(format!("no {id} dashboard")))?;
        let share = recipient_path::view(env, &admin, &email, dashboard, &mut viewing).await?;
        viewing.live.push(share);
    }
    let accounts = env.accounts().clone();
    let enabled = steps::set_remote_access(
        env,
        &accounts.cloud_admin,
        &accounts.dms_id,
        &[&accounts.cloud_member],
    )
    .await?;
    if enabled.status != 200 {
        return Err(Failure::precondition(
            "the Owner enabling remote access for a Member",
            "HTTP 200",
            enabled,
        ));
    }
    let remote = Recipient::signed_in_as(env, &accounts.cloud_member).await?;
    Ok((admin, email, viewing, remote))
}

fn viewer_of<'a>(viewing: &'a Viewing, share: &LiveShare) -> Result<&'a Viewer, Failure> {
    viewing
        .viewers
        .get(&share.share_id)
        .ok_or_else(|| Failure::Harness(format!("no viewer of {}", share.share_id)))
}

/// `call`'s body naming `connection` (none when `None`).
fn naming(parameters: &Value, connection: Option<&str>) -> Value {
    let mut body = parameters.clone();
    if let (Some(fields), Some(connection)) = (body.as_object_mut(), connection) {
        fields.insert("connection".into(), Value::from(connection));
    }
    body
}

pub(super) async fn untied_requests_refused(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let bound = oracle::spec()?.sharing.gateway_sessions_per_share;
    let (admin, email, mut viewing, remote) =
        outside(&env, &["soc-overview", "core-network"]).await?;
    let dms = env.accounts().dms_id.clone();

    // A share that ended: its viewer's session, then the share deleted on the DMS.
    let ended = viewing
        .live
        .pop()
        .ok_or_else(|| Failure::Harness("no second share".into()))?;
    admin
        .expect_data("DeleteShare", json!({ "shareID": ended.share_id }))
        .await?;
    // A viewer whose session is gone: the share's first viewer, after the bound's worth of
    // new viewers made the gateway end its session on the DMA.
    let kept = viewing
        .live
        .first()
        .ok_or_else(|| Failure::Harness("no share".into()))?;
    let shared = live::share(&env, &admin, &kept.dashboard.id, &[&email], json!({})).await?;
    let link = shared.link_for(&email)?;
    live::open_viewer(&live::partner(&env).await?.1, link).await?;
    let gone = recipient_path::gateway_session(&env, &shared.share_id)?;
    for _ in 0..bound {
        live::open_viewer(&live::partner(&env).await?.1, link).await?;
    }
    let logged_out = env
        .dma()
        .executed()
        .all()
        .iter()
        .any(|c| c.method == "LogOut" && c.connection == gone);
    if !logged_out {
        return Err(Failure::precondition(
            format!("{bound} newer viewers of one share"),
            "the gateway ends the first viewer's session on the DMA (LogOut)",
            "no LogOut of it",
        ));
    }
    // The Administrator's own session, opened on the DMA's public API: valid on the DMA, but
    // neither a share's nor opened through the gateway.
    let public = admin.connection().to_owned();

    let element = json!({ "dmaID": 2000, "elementID": 100 });
    let cases: [(&str, Option<&str>); 5] = [
        ("no connection", None),
        ("a made-up connection", Some("not-a-connection")),
        (
            "the Administrator's session opened on the public API",
            Some(public.as_str()),
        ),
        (
            "a deleted share's viewer session",
            Some(ended.connection.as_str()),
        ),
        ("a viewer session the gateway ended", Some(gone.as_str())),
    ];
    let (sent, seen) = far_side(&env, async {
        let mut sent = Vec::new();
        for (what, connection) in cases {
            let (status, _) = remote
                .call_json(&dms, "GetElement", &naming(&element, connection))
                .await?;
            sent.push(Sent {
                who: "a remote-access account",
                what: format!("GetElement on {what}"),
                status,
            });
        }
        Ok(sent)
    })
    .await?;
    ev.saw("the requests and the answers their senders got", &sent);
    ev.expect(
        "untied-requests-not-executed",
        "calls the DMA carried out while requests tied to no live share's viewer were sent",
        seen.executed.is_empty(),
        "none",
        &seen.executed,
    )?;
    ev.expect(
        "untied-requests-stopped-at-the-waf",
        "those requests that reached the DMA's gateway channel",
        seen.arrived.is_empty(),
        "none: the WAF refuses what it cannot tie to a live share",
        &seen.arrived,
    )?;
    ev.expect_eq(
        "each-refused-by-the-waf",
        "of the requests sent, the WAF's decisions on them, and how many it blocked; and the senders' statuses that were refusals (4xx)",
        (sent.len(), sent.len(), sent.len()),
        (
            seen.decided,
            seen.blocked,
            sent.iter().filter(|s| (400..500).contains(&s.status)).count(),
        ),
    )
}

pub(super) async fn body_connection_not_trusted(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let (_, _, viewing, remote) = outside(&env, &["soc-overview", "core-network"]).await?;
    let dms = env.accounts().dms_id.clone();
    let [a, b] = viewing.live.as_slice() else {
        return Err(Failure::Harness("two shares expected".into()));
    };
    let through_a = viewer_of(&viewing, a)?;
    // B's calls, each as its own dashboard makes it (fixtures), naming B's session: a call
    // B's whitelist allows, on a session the sender was never given.
    let b_calls = live::dashboard_calls(&b.dashboard.id)?;
    let (sent, seen) = far_side(&env, async {
        let mut sent = Vec::new();
        for (method, parameters) in &b_calls {
            let body = naming(parameters, Some(&b.connection));
            let answer = viewing.browser.call(through_a, method, &body).await?;
            sent.push(Sent {
                who: "share A's recipient, through their viewer",
                what: format!("{method} naming share B's session"),
                status: answer.status,
            });
            let (status, _) = remote.call_json(&dms, method, &body).await?;
            sent.push(Sent {
                who: "a remote-access account",
                what: format!("{method} naming share B's session"),
                status,
            });
        }
        Ok(sent)
    })
    .await?;
    ev.saw("the requests and the answers their senders got", &sent);
    let on_b: Vec<&(String, Option<String>, Call)> = seen
        .executed
        .iter()
        .filter(|(connection, share, _)| {
            *connection == b.connection || share.as_deref() == Some(b.share_id.as_str())
        })
        .collect();
    ev.expect(
        "no-call-carried-out-on-a-session-named-in-the-body",
        "calls the DMA carried out on share B's session, or as its user, while others named it in their bodies",
        on_b.is_empty() && seen.executed.is_empty(),
        "none (and nothing else either)",
        &seen.executed,
    )?;
    ev.expect(
        "named-sessions-stopped-at-the-waf",
        "those requests that reached the DMA's gateway channel",
        seen.arrived.is_empty(),
        "none: the WAF takes a share's session only as the Cloud Gateway attached it",
        &seen.arrived,
    )?;
    ev.expect_eq(
        "each-refused-by-the-waf",
        "of the requests sent, the WAF's decisions on them, and how many it blocked; and the senders' statuses that were refusals (4xx)",
        (sent.len(), sent.len(), sent.len()),
        (
            seen.decided,
            seen.blocked,
            sent.iter().filter(|s| (400..500).contains(&s.status)).count(),
        ),
    )?;
    // No false positive: A's own calls, as A's app sends them (no connection), still run, on
    // A's session, through the same viewer.
    let a_calls = live::dashboard_calls(&a.dashboard.id)?;
    let (own, seen) = far_side(&env, async {
        let mut sent = Vec::new();
        for (method, parameters) in &a_calls {
            let answer = viewing.browser.call(through_a, method, parameters).await?;
            sent.push(Sent {
                who: "share A's recipient, through their viewer",
                what: method.clone(),
                status: answer.status,
            });
        }
        Ok(sent)
    })
    .await?;
    let on_a = seen
        .executed
        .iter()
        .filter(|(connection, _, call)| *connection == a.connection && a.whitelist.contains(call))
        .count();
    ev.expect_eq(
        "own-calls-still-carried-out",
        "share A's own calls through A's viewer: sent, answered 200, and carried out on A's session (by the DMA's log)",
        (own.len(), own.len(), own.len()),
        (
            own.len(),
            own.iter().filter(|s| s.status == 200).count(),
            on_a,
        ),
    )
}
