//! What the endings sweeps read of both sides after an end: the token the DMS stored, the
//! cloud's answer to it, and the connection state the DMA tells its Administrator.

use std::time::Duration;

use mocks::Environment;
use mocks::cloud::Endpoint;
use serde_json::{Value, json};

use crate::Failure;
use crate::clients::{CloudClient, DmaSession};

/// How long the agent waits on a cloud that does not answer while the sweep cuts it off or
/// holds its answer: the cut costs the ending this much real time. Only for that while: the
/// connect before it keeps the agent's usual bound, since dialling on a loaded machine may take
/// longer than this, and a dial given up on waits for a backoff on a clock that only the
/// scenario moves.
const CUT_NETWORK_TIMEOUT: Duration = Duration::from_millis(500);

/// The agent's network timeout at `CUT_NETWORK_TIMEOUT` until this is dropped, then its usual.
pub(super) struct CutTimeout<'a> {
    env: &'a Environment,
    usual: Duration,
}

impl<'a> CutTimeout<'a> {
    pub(super) fn start(env: &'a Environment) -> Self {
        let usual = env.agent_network_timeout().get();
        env.agent_network_timeout().set(CUT_NETWORK_TIMEOUT);
        Self { env, usual }
    }
}

impl Drop for CutTimeout<'_> {
    fn drop(&mut self) {
        self.env.agent_network_timeout().set(self.usual);
    }
}

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
