//! A `LogOut` the DMA missed (TUN-1, SHARE-3). When a new viewer comes beyond the Cloud
//! Gateway's bound per share (`fixtures/spec.json`, `sharing.gateway_sessions_per_share`), the
//! gateway ends the idlest viewer's session on the DMA. If the DMA cannot be reached at that
//! moment (its link from the WAF reset), that session must not live on: once the DMA is
//! reachable again and the gateway's clock moves on, it is ended. Judged on the DMA's session
//! table for the share's user and the `LogOut`s the DMA carried out, nothing the gateway says.

use std::time::Duration;

use mocks::Hop;
use mocks::world::net::Toxic;
use serde_json::json;

use super::live;
use crate::{Ctx, Failure, oracle};

const DASHBOARD: &str = "core-network";

/// How far the scenario moves the clock once the DMA is back: a minute, which a gateway that
/// retries at every tick of its clock, or every few seconds, has used.
const LATER: Duration = Duration::from_secs(60);

pub(super) async fn a_missed_log_out_is_sent_again(ctx: Ctx) -> Result<(), Failure> {
    let mut options = ctx.options();
    options.proxied_hops = true;
    let env = ctx.environment_with(options).await?;
    let ev = ctx.evidence();
    let bound = oracle::spec()?.sharing.gateway_sessions_per_share;
    let admin = live::connected(&env).await?;
    let (email, _) = live::partner(&env).await?;
    let shared = live::share(&env, &admin, DASHBOARD, &[&email], json!({})).await?;
    let link = shared.link_for(&email)?.to_owned();
    let sign_ins = |env: &mocks::Environment| -> Vec<String> {
        env.dma()
            .executed()
            .all()
            .into_iter()
            .filter(|c| c.method == "ConnectApp" && c.share.as_deref() == Some(&shared.share_id))
            .map(|c| c.connection)
            .collect()
    };

    // As many viewers as the bound, each in a browser of its own.
    for _ in 0..bound {
        let (_, browser) = live::partner(&env).await?;
        live::open_viewer(&browser, &link).await?;
    }
    let full = env.dma().open_share_sessions(&shared.share_id);
    let first = sign_ins(&env).into_iter().next();
    let (Some(first), true) = (first, full == bound) else {
        return Err(Failure::precondition(
            format!("{bound} viewers of the share"),
            format!("{bound} of the share user's sessions open on the DMA"),
            full,
        ));
    };

    // One more viewer while the DMA cannot be reached from the WAF: the gateway lets the
    // idlest session go, and its LogOut cannot get through.
    let to_dma = env
        .hop(Hop::WafToDma)
        .ok_or_else(|| Failure::Harness("no toxics between the WAF and the DMA".into()))?;
    to_dma.add_both(Toxic::ResetPeer {
        after: Duration::ZERO,
    });
    let (_, browser) = live::partner(&env).await?;
    let during = browser.open(&link).await?;
    to_dma.clear();
    let after_outage = env.dma().open_share_sessions(&shared.share_id);
    ev.saw(
        "a new viewer while the DMA was unreachable: its status, and the share user's sessions open on the DMA just after",
        json!({ "status": during.status, "open_sessions": after_outage }),
    );

    let from = env.dma().executed().len();
    env.advance(LATER).await;
    let ended_later = env
        .dma()
        .executed()
        .since(from)
        .iter()
        .any(|c| c.method == "LogOut" && c.connection == first);
    let open = env.dma().open_share_sessions(&shared.share_id);
    ev.expect(
        "session-let-go-ends-on-the-dma",
        &format!(
            "once the DMA is reachable again and {} s passed: whether the DMA carried out the LogOut of the session the gateway let go of, and the share user's sessions open on it",
            LATER.as_secs()
        ),
        ended_later && open == bound - 1,
        &format!(
            "ended; {} open (the bound, less the one let go; the viewer during the outage was never signed in)",
            bound - 1
        ),
        json!({ "ended": ended_later, "open_sessions": open }),
    )?;

    // The share goes on: a viewer opened now is served.
    let (_, browser) = live::partner(&env).await?;
    let (viewer, _) = live::open_viewer(&browser, &link).await?;
    let beat = browser.heartbeat(&viewer).await?;
    let open = env.dma().open_share_sessions(&shared.share_id);
    ev.expect(
        "viewers-served-after-the-outage",
        "a new viewer's heartbeat after the outage, and the share user's sessions open on the DMA then",
        beat.status == 200 && open <= bound,
        &format!("HTTP 200, at most {bound} open"),
        json!({ "status": beat.status, "open_sessions": open }),
    )
}
