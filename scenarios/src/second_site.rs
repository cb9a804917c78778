//! The second organisation's DMS site (`Options::second_site`), brought up as its people do:
//! its Administrator asks it to connect on its own DMA, the second organisation's Owner signs
//! in to dataminer.services and approves it on the verification page, its agent fetches its
//! token and opens its tunnels; then its Administrator shares a dashboard of its own. Judged
//! only as preconditions: the scenarios that use the site judge what they are about.

use std::time::Duration;

use mocks::cloud::Endpoint;
use mocks::{Environment, SecondSite};
use serde_json::{Value, json};

use crate::clients::{CloudClient, DmaClient, DmaSession, link_in};
use crate::steps::{PROMPTLY, approve_on_page, sign_in};
use crate::{Ctx, Failure};

/// The RFC 8628 polling interval the cloud announces.
const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// The second site, connected: its Administrator's DMA session.
#[derive(Debug, Clone)]
pub struct SiteUp {
    pub dms_id: String,
    pub admin: DmaSession,
}

/// A dashboard the second site shared: its share ID and the link each address was mailed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SiteShare {
    pub share_id: String,
    pub dashboard: String,
    pub links: Vec<(String, String)>,
}

/// The scenario's environment, with the second organisation's site beside the first.
pub async fn environment(ctx: &Ctx) -> Result<Environment, Failure> {
    ctx.environment_with(mocks::Options {
        second_site: true,
        ..ctx.options()
    })
    .await
}

/// The environment's second site, or a harness failure naming the option it lacks.
pub fn site(env: &Environment) -> Result<&SecondSite, Failure> {
    env.second_site().ok_or_else(|| {
        Failure::Harness("the environment was started without `Options::second_site`".into())
    })
}

/// Connects the second site through the public connect flow, approved by the second
/// organisation's Owner, and waits until its tunnels are live on the cloud.
pub async fn connect(env: &Environment) -> Result<SiteUp, Failure> {
    let site = site(env)?;
    let accounts = site.accounts();
    let admin = DmaClient::of(site.dma())
        .log_in(&accounts.dms_admin)
        .await?;
    let pairing = admin.expect_data("ConnectToCloud", json!({})).await?;
    let user_code = pairing
        .get("UserCode")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Failure::precondition(
                "ConnectToCloud on the second site",
                "a user code to approve",
                &pairing,
            )
        })?;
    let owner = &env.accounts().cloud_outsider;
    let browser = CloudClient::new(env)?;
    let cookie = sign_in(&browser, owner).await?;
    let approval = approve_on_page(&browser, Some(&cookie), user_code, &accounts.dms_id).await?;
    if approval.answer.status != 200 {
        return Err(Failure::precondition(
            "the second organisation's Owner approving its DMS",
            "HTTP 200 at the end of the redirects",
            approval.answer,
        ));
    }
    env.advance(POLL_INTERVAL).await;
    tunnels_up(env, site).await?;
    Ok(SiteUp {
        dms_id: accounts.dms_id.clone(),
        admin,
    })
}

/// The second site's Administrator shares `dashboard` with `emails` on its own DMA; the links
/// come from the mails the cloud sent after the share.
pub async fn share(
    env: &Environment,
    up: &SiteUp,
    dashboard: &str,
    emails: &[&str],
) -> Result<SiteShare, Failure> {
    let before = env.cloud().outbox().all().len();
    let reply = up
        .admin
        .expect_data(
            "ShareDashboard",
            json!({ "dashboardID": dashboard, "emails": emails }),
        )
        .await?;
    let share_id = reply
        .get("ShareID")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Failure::precondition("ShareDashboard on the second site", "a share ID", &reply)
        })?
        .to_owned();
    let links = env
        .cloud()
        .outbox()
        .all()
        .get(before..)
        .unwrap_or_default()
        .iter()
        .filter_map(|mail| link_in(mail).map(|link| (mail.to.clone(), link)))
        .collect();
    Ok(SiteShare {
        share_id,
        dashboard: dashboard.to_owned(),
        links,
    })
}

/// The tunnels the second site dialled (counted on its own sockets) are live and ready on the
/// cloud, within `PROMPTLY`.
async fn tunnels_up(env: &Environment, site: &SecondSite) -> Result<usize, Failure> {
    let host = Endpoint::Tunnel.host();
    let dms_id = &site.accounts().dms_id;
    let deadline = tokio::time::Instant::now() + PROMPTLY;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let open = usize::try_from(site.dms_egress().to(host).open).unwrap_or(0);
        if open == 0 {
            if !left.is_zero() && site.dms_egress().wait_any_open(host, left).await {
                continue;
            }
            return Err(Failure::precondition(
                "the second site's tunnels after the approval",
                "at least one connection open to the tunnel endpoint",
                env.cloud().tunnels().events(),
            ));
        }
        if left.is_zero() {
            return Err(Failure::timeout(
                format!("the cloud to hold the second site's {open} tunnels"),
                PROMPTLY,
            ));
        }
        let look = left.min(Duration::from_millis(500));
        let tunnels = env.cloud().tunnels();
        if tunnels.wait_live(dms_id, open, look).await
            && tunnels.wait_ready(dms_id, open, look).await
        {
            return Ok(open);
        }
    }
}
