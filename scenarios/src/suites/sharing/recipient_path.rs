//! Every fixture dashboard shared with one recipient, who signs in and opens each link: the
//! way the WAF's scenarios reach it, as the recipient does, from outside. For each share the
//! scenario also learns the session the Cloud Gateway opened for that viewer, from the DMA's
//! own record of the sign-in (the recipient never holds it): the corpus's cases that name a
//! connection name that one, or another share's.

use std::collections::HashMap;

use fixtures::Dashboard;
use mocks::Environment;
use serde_json::json;

use super::calls;
use super::live;
use super::setup::{self, LiveShare};
use crate::Failure;
use crate::clients::{DmaSession, ShareRecipient, Viewer};

/// The recipient, signed in, with a viewer open on each share.
#[derive(Debug)]
pub(crate) struct Viewing {
    pub browser: ShareRecipient,
    pub live: Vec<LiveShare>,
    /// Shares deleted after their viewer opened.
    pub deleted: Vec<LiveShare>,
    /// Share ID → the viewer the recipient opened on it.
    pub viewers: HashMap<String, Viewer>,
}

/// The DMS connected, every fixture dashboard shared with the partner account twice (the
/// second share deleted once its viewer is open), every link opened by that account.
pub(crate) async fn share_everything_with_a_recipient(
    env: &Environment,
) -> Result<Viewing, Failure> {
    let admin = live::connected(env).await?;
    let (email, browser) = live::partner(env).await?;
    let mut viewing = Viewing {
        browser,
        live: Vec::new(),
        deleted: Vec::new(),
        viewers: HashMap::new(),
    };
    for dashboard in setup::dashboards()? {
        let share = view(env, &admin, &email, &dashboard, &mut viewing).await?;
        viewing.live.push(share);
        let doomed = view(env, &admin, &email, &dashboard, &mut viewing).await?;
        admin
            .expect_data("DeleteShare", json!({ "shareID": doomed.share_id }))
            .await?;
        viewing.deleted.push(doomed);
    }
    Ok(viewing)
}

/// The DMS connected and `dashboard` shared with the partner account, whose viewer is open:
/// the recipient, the share (with the gateway's session for that viewer) and the viewer.
pub(crate) async fn one_share_viewed(
    env: &Environment,
    dashboard: &str,
) -> Result<(ShareRecipient, LiveShare, Viewer), Failure> {
    let admin = live::connected(env).await?;
    let (email, browser) = live::partner(env).await?;
    let dashboard = setup::dashboards()?
        .into_iter()
        .find(|d| d.id == dashboard)
        .ok_or_else(|| Failure::Harness(format!("no {dashboard} dashboard")))?;
    let mut viewing = Viewing {
        browser,
        live: Vec::new(),
        deleted: Vec::new(),
        viewers: HashMap::new(),
    };
    let share = view(env, &admin, &email, &dashboard, &mut viewing).await?;
    let viewer = viewing
        .viewers
        .remove(&share.share_id)
        .ok_or_else(|| Failure::Harness("the viewer was not kept".into()))?;
    Ok((viewing.browser, share, viewer))
}

/// Shares `dashboard` with `email`, opens the link as the recipient and finds the session the
/// gateway opened for that viewer.
pub(super) async fn view(
    env: &Environment,
    admin: &DmaSession,
    email: &str,
    dashboard: &Dashboard,
    viewing: &mut Viewing,
) -> Result<LiveShare, Failure> {
    let shared = live::share(env, admin, &dashboard.id, &[email], json!({})).await?;
    let (viewer, _) = live::open_viewer(&viewing.browser, shared.link_for(email)?).await?;
    let connection = gateway_session(env, &shared.share_id)?;
    viewing.viewers.insert(shared.share_id.clone(), viewer);
    Ok(LiveShare {
        share_id: shared.share_id,
        dashboard: dashboard.clone(),
        connection,
        whitelist: calls::whitelist(dashboard),
    })
}

/// The session the DMA opened for `share_id`'s user last: the gateway's sign-in for the viewer.
pub(crate) fn gateway_session(env: &Environment, share_id: &str) -> Result<String, Failure> {
    env.dma()
        .executed()
        .all()
        .into_iter()
        .rev()
        .find(|c| c.method == "ConnectApp" && c.share.as_deref() == Some(share_id))
        .map(|c| c.connection)
        .ok_or_else(|| {
            Failure::precondition(
                format!("the Cloud Gateway's sign-in for a viewer of {share_id}"),
                "a ConnectApp the DMA carried out as the share user",
                "none",
            )
        })
}
