//! `env up --orgs 2`: a second organisation beside the DMS's own, so a reviewer can repeat by
//! hand what one tenant tries on another (docs/walkthrough.md, "Another organisation"). Its
//! account is the environment's other-organisation account, the Owner of that organisation;
//! its DMS is a full site of its own (DMA, WAF, Cloud Gateway), connected through the public
//! connect flow as any customer's is: its Administrator asks it to connect, the organisation's
//! Owner approves it. The line carries the site's DMA, its Administrator and the token its
//! gateway holds, so curl can call the cloud's DMS API as it. With `--shared`, that DMS also
//! shares a dashboard of its own (on its DMA) with the first organisation's Owner.

use mocks::Environment;
use scenarios::second_site;
use serde_json::{Value, json};

/// The dashboard the second site shares.
const DASHBOARD: &str = "soc-overview";

/// What the line says of the two organisations.
pub async fn second_organization(env: &Environment, shared: bool) -> anyhow::Result<Value> {
    let accounts = env.accounts();
    let other = accounts.cloud_outsider.clone();
    let up = second_site::connect(env)
        .await
        .map_err(|failure| anyhow::anyhow!("the second organisation's DMS: {failure}"))?;
    let site = second_site::site(env).map_err(|failure| anyhow::anyhow!("{failure}"))?;
    let mut share = Value::Null;
    if shared {
        let recipient = &accounts.cloud_admin.email;
        let theirs = second_site::share(env, &up, DASHBOARD, &[recipient])
            .await
            .map_err(|failure| anyhow::anyhow!("the second organisation's share: {failure}"))?;
        share = json!({
            "share_id": theirs.share_id,
            "dashboard": theirs.dashboard,
            "recipient": recipient,
            "link": theirs.links.iter().find(|(to, _)| to == recipient).map(|(_, link)| link),
        });
    }
    let token = site
        .dms_credentials()
        .stored()
        .map(|c| c.access_token)
        .ok_or_else(|| anyhow::anyhow!("the second organisation's DMS holds no token"))?;
    let admin = &site.accounts().dms_admin;
    Ok(json!([
        {
            "organization": accounts.cloud_admin.organization,
            "account": accounts.cloud_admin.email,
            "dms_id": accounts.dms_id,
        },
        {
            "organization": other.organization,
            "account": other.email,
            "dms_id": up.dms_id,
            "dms_name": site.accounts().dms_name,
            "dms_token": token,
            "dma": site.dma().api_url(),
            "waf": format!("http://{}/", site.waf().addr()),
            "dms_admin": { "login": admin.login, "password": admin.password, "role": admin.role },
            "share": share,
        },
    ]))
}
