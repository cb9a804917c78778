//! What the remote-access scenarios share: a sign-in through the sharing front end, and what
//! reached the DMA's gateway channel.

use mocks::Environment;
use mocks::dma::Channel;
use serde_json::{Value, json};

use crate::Failure;
use crate::steps::Recipient;

/// `ConnectApp` through the front end as `login`: the status and the answer.
pub(super) async fn sign_in(
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
pub(super) fn gateway_sign_ins(env: &Environment) -> usize {
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
