//! The relay does not wait for ever on a DMS that never answers (TUN-1, DOS-1): with the DMS's
//! side holding every request (a black hole between the WAF and the DMA), a recipient's call
//! enters the tunnel, and the cloud gives up on it at its bound on a DMS's answer head with 504,
//! long before the Cloud Gateway's own 30 s bound would end it. Once the hop heals, the viewer
//! is served again: the call that timed out left nothing held.
//!
//! Network bounds are real time, not the environment's clock: the scenario sets the relay's
//! bound itself ([`ANSWER_WITHIN`], where the product waits 30 s) so that it waits out seconds,
//! not half a minute, and judges by what the recipient's browser got within its patience.

use std::time::Duration;

use mocks::Hop;
use mocks::world::net::{Direction, Toxic};
use serde_json::json;

use super::live;
use crate::{Ctx, Failure};

const DASHBOARD: &str = "core-network";

/// The relay's bound on a DMS's answer head in this scenario's environment.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);
/// How long the recipient's browser waits for an answer: well past the relay's bound on a
/// loaded machine, and short of the Cloud Gateway's 30 s bound on the DMS's side, so an
/// answer in time is the relay's.
const PATIENCE: Duration = Duration::from_secs(15);
/// How long the held call may take to reach the DMS's side.
const ARRIVAL: Duration = Duration::from_secs(15);

pub(super) async fn the_relay_gives_up_on_a_silent_dms(ctx: Ctx) -> Result<(), Failure> {
    let mut options = ctx.options();
    options.proxied_hops = true;
    options.cloud_relay_answer_within = Some(ANSWER_WITHIN);
    let env = ctx.environment_with(options).await?;
    let ev = ctx.evidence();
    let hop = env
        .hop(Hop::WafToDma)
        .ok_or_else(|| Failure::Harness("no toxics between the WAF and the DMA".into()))?;
    let admin = live::connected(&env).await?;
    let (email, browser) = live::partner(&env).await?;
    let shared = live::share(&env, &admin, DASHBOARD, &[&email], json!({})).await?;
    let (viewer, _) = live::open_viewer(&browser, shared.link_for(&email)?).await?;
    let (method, parameters) = live::dashboard_calls(DASHBOARD)?
        .first()
        .cloned()
        .ok_or_else(|| Failure::Harness(format!("{DASHBOARD} has no call")))?;
    let before = browser.call(&viewer, &method, &parameters).await?;
    if before.status != 200 {
        return Err(Failure::precondition(
            "the viewer's call before the DMS's side holds",
            "HTTP 200",
            before.status,
        ));
    }

    // The DMS's side holds every request from now on.
    hop.add(Direction::Upstream, Toxic::Timeout { close_after: None });
    let received = env.agent_streams();
    let streams_before = received.len();
    let answered = tokio::time::timeout(PATIENCE, browser.call(&viewer, &method, &parameters))
        .await
        .ok()
        .transpose()?
        .map(|seen| seen.status);
    let reached = received.wait_for_len(streams_before + 1, ARRIVAL).await;
    if !reached {
        return Err(Failure::precondition(
            "the call held at the DMS's side",
            "a stream received by the Cloud Gateway",
            received.len() - streams_before,
        ));
    }
    ev.expect(
        "relay-gives-up-on-a-silent-dms",
        &format!(
            "what the recipient's browser got within {} s for a call the DMS's side never answers, with the relay's bound at {} s",
            PATIENCE.as_secs(),
            ANSWER_WITHIN.as_secs()
        ),
        answered == Some(504),
        "HTTP 504",
        json!({ "answered": answered }),
    )?;

    // The DMS's side answers again: the viewer is served.
    hop.clear();
    let again = browser.call(&viewer, &method, &parameters).await?;
    ev.expect_eq(
        "viewer-served-once-the-dms-answers",
        "the viewer's call once the hop healed",
        200,
        again.status,
    )
}
