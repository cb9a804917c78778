//! DMSs the sweeps play themselves: each goes through the whole connect flow over its own
//! connections, approved on the verification page by the account given, and keeps what the
//! cloud delivered to it.

use mocks::Environment;
use mocks::cloud::Account;

use crate::Failure;
use crate::clients::{CloudClient, ScriptedDms};
use crate::steps;

/// A DMS the scenario plays, with the token and refresh key the cloud delivered to it.
#[derive(Debug, Clone)]
pub(super) struct Enrolled {
    pub dms: ScriptedDms,
    pub access_token: String,
    pub refresh_key: String,
}

/// DMS `dms_id` joins `approver`'s organisation, approved by `approver` on the page.
pub(super) async fn enrol(
    env: &Environment,
    dms_id: &str,
    approver: &Account,
) -> Result<Enrolled, Failure> {
    let browser = CloudClient::new(env)?;
    let cookie = steps::sign_in(&browser, approver).await?;
    let dms = ScriptedDms::new(&CloudClient::new(env)?, dms_id)?.joining(&approver.organization);
    let started = dms.started().await?;
    let approval =
        steps::approve_on_page(&browser, Some(&cookie), &started.user_code, dms_id).await?;
    if approval.answer.status != 200 {
        return Err(Failure::precondition(
            format!("{} approving {dms_id}", approver.email),
            "HTTP 200",
            approval.answer,
        ));
    }
    let reply = dms.redeem(&started.device_code).await?;
    match (reply.field("access_token"), reply.field("refresh_token")) {
        (Some(access_token), Some(refresh_key)) => Ok(Enrolled {
            dms,
            access_token,
            refresh_key,
        }),
        _ => Err(Failure::precondition(
            format!("{dms_id}'s token"),
            "an access token and a refresh key",
            reply.status,
        )),
    }
}
