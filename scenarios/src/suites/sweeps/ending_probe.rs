//! What the endings sweeps read of both sides after an end: the token the DMS stored, the
//! cloud's answer to it, and the connection state the DMA tells its Administrator.

use std::time::Duration;

use mocks::Environment;
use mocks::cloud::Endpoint;
use serde_json::{Value, json};

use crate::Failure;
use crate::clients::{CloudClient, DmaSession};

/// The gateway's retry interval after a failed request, as the product documents it (10 s):
/// a pending revocation must have gone out again once this has passed.
pub(super) const RETRY: Duration = Duration::from_secs(10);

pub(super) fn stored_token(env: &Environment) -> Result<String, Failure> {
    env.dms_credentials()
        .stored()
        .map(|c| c.access_token)
        .ok_or_else(|| Failure::precondition("the connect flow", "credentials stored", "none"))
}

/// The HTTP status the cloud's API gives `token` now.
pub(super) async fn cloud_takes(env: &Environment, token: &str) -> Result<u16, Failure> {
    Ok(CloudClient::new(env)?
        .get_with_token(Endpoint::Connection, "api/dms/self", token)
        .await?
        .status)
}

/// The state the DMA's answer names.
pub(super) fn state_in(answer: &Value) -> String {
    answer
        .get("State")
        .and_then(Value::as_str)
        .unwrap_or("(none)")
        .to_owned()
}

pub(super) async fn connection_state(admin: &DmaSession) -> Result<String, Failure> {
    let answer = admin
        .expect_data("GetCloudConnectionState", json!({}))
        .await?;
    Ok(answer.as_str().unwrap_or("(none)").to_owned())
}

/// What one state's ending showed.
pub(super) struct Ended {
    /// The cloud's answer to the old token once the two could talk again.
    pub refused_after: u16,
    /// What the DMA told the Administrator while the cloud could not be reached (`None` when
    /// it always could).
    pub told_while_cut: Option<(String, String)>,
}
