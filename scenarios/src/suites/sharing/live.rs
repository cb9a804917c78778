//! Setting up live shares as people do: the DMS connected by its Administrator, a dashboard
//! shared with addresses through the DMA's API, the links read from the mails the cloud sent,
//! a recipient signed in, a viewer opened. And what the scenario itself expects a viewer to
//! show, read from the fixtures.

use fixtures::{Dashboard, DashboardCall, DmaData};
use mocks::Environment;
use serde_json::{Value, json};

use super::setup::dma_data;
use crate::Failure;
use crate::clients::{DmaSession, ShareRecipient, Viewer, link_in};
use crate::steps;

/// An address no account has yet: the recipient who signs up.
pub(crate) const NEW_ADDRESS: &str = "new.viewer@partner.example";

/// A dashboard shared through the DMA's API, with the link each address was mailed.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Shared {
    pub share_id: String,
    pub dashboard: String,
    /// The share user's login, as `ShareDashboard` answered it.
    pub login: String,
    pub links: Vec<(String, String)>,
}

impl Shared {
    /// The link mailed to `email`.
    pub fn link_for(&self, email: &str) -> Result<&str, Failure> {
        self.links
            .iter()
            .find(|(to, _)| to.eq_ignore_ascii_case(email))
            .map(|(_, link)| link.as_str())
            .ok_or_else(|| {
                Failure::precondition(
                    format!("the link mailed to {email}"),
                    "one link",
                    &self.links,
                )
            })
    }
}

/// The DMS connected, and its Administrator's DMA session.
pub(crate) async fn connected(env: &Environment) -> Result<DmaSession, Failure> {
    steps::connect_dms(env).await
}

/// `by` shares `dashboard` with `emails` (with `extra` fields: message, expiry); the links
/// come from the mails sent to each address after the share.
pub(crate) async fn share(
    env: &Environment,
    by: &DmaSession,
    dashboard: &str,
    emails: &[&str],
    extra: Value,
) -> Result<Shared, Failure> {
    let before = env.cloud().outbox().all().len();
    let mut fields = json!({ "dashboardID": dashboard, "emails": emails });
    if let (Some(fields), Value::Object(extra)) = (fields.as_object_mut(), extra) {
        fields.extend(extra);
    }
    let reply = by.expect_data("ShareDashboard", fields).await?;
    let text = |name: &str| reply.get(name).and_then(Value::as_str).map(str::to_owned);
    let (Some(share_id), Some(login)) = (text("ShareID"), text("Login")) else {
        return Err(Failure::precondition(
            "ShareDashboard",
            "a share ID and a login",
            &reply,
        ));
    };
    let mails = env.cloud().outbox().all();
    let links = mails
        .get(before..)
        .unwrap_or_default()
        .iter()
        .filter_map(|mail| link_in(mail).map(|link| (mail.to.clone(), link)))
        .collect();
    Ok(Shared {
        share_id,
        dashboard: dashboard.to_owned(),
        login,
        links,
    })
}

/// The environment's partner account (another organisation's): the recipient with an account.
pub(crate) async fn partner(env: &Environment) -> Result<(String, ShareRecipient), Failure> {
    let account = &env.accounts().cloud_outsider;
    let mut browser = ShareRecipient::new(env)?;
    browser.sign_in(&account.email, &account.password).await?;
    Ok((account.email.clone(), browser))
}

/// The DMS's own organisation's Administrator, signed in on the sharing host: an account the
/// dashboard was not shared with.
pub(crate) async fn someone_else(env: &Environment) -> Result<ShareRecipient, Failure> {
    let account = &env.accounts().cloud_admin;
    let mut browser = ShareRecipient::new(env)?;
    browser.sign_in(&account.email, &account.password).await?;
    Ok(browser)
}

/// Opens `link` as `browser`: the dashboard app the DMS serves under the link.
pub(crate) async fn open_viewer(
    browser: &ShareRecipient,
    link: &str,
) -> Result<(Viewer, String), Failure> {
    let page = browser.open(link).await?;
    match Viewer::of(&page) {
        Some(viewer) => Ok((viewer, page.body)),
        None => Err(Failure::precondition(
            "opening the emailed link as its recipient",
            "HTTP 200 with the DMS's dashboard app",
            format!("HTTP {} at {}", page.status, page.path),
        )),
    }
}

/// Every call of `dashboard` (fixtures) as the app sends it: method and parameters.
pub(crate) fn dashboard_calls(dashboard: &str) -> Result<Vec<(String, Value)>, Failure> {
    let dashboard = Dashboard::load(dashboard).map_err(|e| Failure::Harness(e.to_string()))?;
    Ok(dashboard
        .calls()
        .map(|c| (c.method.clone(), Value::Object(c.parameters.clone())))
        .collect())
}

/// The texts a viewer of `dashboard` must show, by the scenario's own reading of the fixtures:
/// each element's name and each active alarm's value its calls name.
pub(crate) fn expected_texts(dashboard: &str) -> Result<Vec<String>, Failure> {
    let dashboard = Dashboard::load(dashboard).map_err(|e| Failure::Harness(e.to_string()))?;
    let data = dma_data()?;
    let mut texts = Vec::new();
    for call in dashboard.calls() {
        texts.extend(texts_of(call, &data));
    }
    texts.dedup();
    Ok(texts)
}

fn texts_of(call: &DashboardCall, data: &DmaData) -> Vec<String> {
    let id = |name: &str| match call.parameters.get(name) {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let element = match (id("dmaID"), id("elementID")) {
        (Some(dma), Some(element)) => data.element(dma, element),
        _ => None,
    };
    match (call.method.as_str(), element) {
        ("GetElement", Some(e)) => vec![e.name.clone()],
        ("GetActiveAlarmsForElement", Some(e)) => {
            e.alarms.iter().map(|a| a.value.clone()).collect()
        }
        ("GetElementsForView", _) => id("viewID")
            .map(|view| {
                data.elements_in_view(view)
                    .iter()
                    .map(|e| e.name.clone())
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}
