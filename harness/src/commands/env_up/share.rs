//! `env up --shared`: the DMS's Administrator shares a dashboard with the environment's partner
//! account, as a person does on the DMA's API; the link comes from the mail the cloud sent, so
//! a reviewer walks the recipient's path from the same place a recipient starts.

use mocks::Environment;
use scenarios::clients::{DmaSession, link_in};
use serde_json::{Value, json};

/// The dashboard `--shared` shares.
const DASHBOARD: &str = "soc-overview";

/// The share a reviewer walks: what the line says of it.
#[derive(Debug, Clone)]
pub struct Shared {
    pub share_id: String,
    pub link: String,
    pub email: String,
    pub password: String,
}

impl Shared {
    pub fn describe(&self) -> Value {
        json!({
            "share_id": self.share_id,
            "dashboard": DASHBOARD,
            "link": self.link,
            "recipient": { "email": self.email, "password": self.password },
        })
    }
}

pub async fn share_a_dashboard(env: &Environment, admin: &DmaSession) -> anyhow::Result<Shared> {
    let recipient = env.accounts().cloud_outsider.clone();
    let reply = admin
        .expect_data(
            "ShareDashboard",
            json!({ "dashboardID": DASHBOARD, "emails": [recipient.email],
                    "message": "Shared by conform env up --shared." }),
        )
        .await
        .map_err(|failure| anyhow::anyhow!("the dashboard could not be shared: {failure}"))?;
    let share_id = reply
        .get("ShareID")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow::anyhow!("ShareDashboard answered {reply}"))?
        .to_owned();
    let link = env
        .cloud()
        .outbox()
        .to(&recipient.email)
        .iter()
        .find_map(link_in)
        .ok_or_else(|| anyhow::anyhow!("no link was mailed to {}", recipient.email))?;
    Ok(Shared {
        share_id,
        link,
        email: recipient.email,
        password: recipient.password,
    })
}
