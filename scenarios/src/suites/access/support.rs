//! What the remote-access scenarios share: a sign-in through the sharing front end, and what
//! reached the DMA's gateway channel.

use mocks::Environment;
use mocks::dma::Channel;
use serde_json::{Value, json};

use crate::Failure;
use crate::steps::{self, Recipient};

/// The DMS, connected, shares `dashboard` with the other organisation's account (so that the
/// organisation's own members are no recipients of it): the share's ID and its user's login.
pub(super) async fn share_with_outsider(
    env: &Environment,
    dashboard: &str,
) -> Result<(String, String), Failure> {
    let admin = steps::connect_dms(env).await?;
    let outsider = env.accounts().cloud_outsider.email.clone();
    let shared = admin
        .expect_data(
            "ShareDashboard",
            json!({ "dashboardID": dashboard, "emails": [outsider] }),
        )
        .await?;
    let text = |name: &str| shared.get(name).and_then(Value::as_str).map(str::to_owned);
    match (text("ShareID"), text("Login")) {
        (Some(share_id), Some(login)) => Ok((share_id, login)),
        _ => Err(Failure::precondition(
            "ShareDashboard",
            "a share ID and a login",
            &shared,
        )),
    }
}

/// The DMS, connected, with remote access enabled by the Owner for the organisation's Member
/// and Admin: the DMS's ID.
pub(super) async fn member_and_admin_enabled(env: &Environment) -> Result<String, Failure> {
    steps::connect_dms(env).await?;
    let accounts = env.accounts();
    owner_enables(
        env,
        &accounts.dms_id,
        &[&accounts.cloud_member, &accounts.cloud_org_admin],
    )
    .await?;
    Ok(accounts.dms_id.clone())
}

/// `ConnectApp` through the front end as `login`: the status and the answer.
pub(crate) async fn sign_in(
    recipient: &Recipient,
    dms_id: &str,
    login: &str,
    password: &str,
) -> Result<(u16, Value), Failure> {
    let body = json!({
        "host": "", "login": login, "password": password,
        "clientAppName": "conform", "clientAppVersion": "1", "clientComputerName": "remote",
    });
    recipient.call_json(dms_id, "ConnectApp", &body).await
}

/// How many sign-ins arrived on the DMA's gateway channel so far, as the DMA counted them.
pub(crate) fn gateway_sign_ins(env: &Environment) -> usize {
    env.dma()
        .arrivals()
        .all()
        .iter()
        .filter(|a| a.channel == Channel::Gateway && a.path.ends_with("/ConnectApp"))
        .count()
}

/// The connection string of a sign-in's answer.
pub(super) fn connection_of(answer: &Value) -> Option<String> {
    answer.get("d").and_then(Value::as_str).map(str::to_owned)
}

/// The Owner enables remote access on `dms_id` for `accounts`; a precondition when refused.
pub(super) async fn owner_enables(
    env: &Environment,
    dms_id: &str,
    accounts: &[&mocks::cloud::Account],
) -> Result<(), Failure> {
    let owner = &env.accounts().cloud_admin;
    let answer = crate::steps::set_remote_access(env, owner, dms_id, accounts).await?;
    if answer.status != 200 {
        return Err(Failure::precondition(
            "the Owner enabling remote access",
            "HTTP 200",
            answer,
        ));
    }
    Ok(())
}
