//! The agent's half of the connect flow (RFC 8628): ask for a device code, hand the user code
//! to the Administrator, poll until the cloud delivers the token on this connection.

use serde_json::json;

use super::actor::{Actor, Phase};
use super::credentials::Credentials;
use super::{AgentError, Pairing};

/// A device code waiting for the Administrator's approval in the cloud.
pub(super) struct PendingApproval {
    device_code: String,
    interval: u64,
    next_poll: u64,
    expires_at: u64,
}

impl Actor {
    pub(super) async fn begin_pairing(&mut self) -> Result<Pairing, AgentError> {
        let request =
            json!({ "client_id": "dataminer-cloud-gateway", "dms_id": self.setup.dms_id });
        let answer = self
            .https
            .post_json(&self.url("oauth/device_authorization"), &request)
            .await?;
        let (Some(device_code), Some(user_code), Some(verification_uri)) = (
            answer.text("device_code"),
            answer.text("user_code"),
            answer.text("verification_uri"),
        ) else {
            return Err(AgentError::Cloud(format!(
                "device authorization answered HTTP {}",
                answer.status
            )));
        };
        let now = self.setup.clock.unix_seconds();
        let interval = answer.number("interval").unwrap_or(5);
        self.phase = Phase::Pairing(PendingApproval {
            device_code,
            interval,
            next_poll: now + interval,
            expires_at: now + answer.number("expires_in").unwrap_or(900),
        });
        Ok(Pairing {
            user_code,
            verification_uri,
        })
    }

    pub(super) async fn tick_pairing(&mut self, now: u64) {
        let Phase::Pairing(pending) = &mut self.phase else {
            return;
        };
        if now >= pending.expires_at {
            self.phase = Phase::Disabled;
            return;
        }
        if now < pending.next_poll {
            return;
        }
        pending.next_poll = now + pending.interval;
        let device_code = pending.device_code.clone();
        self.poll(&device_code).await;
    }

    /// One poll of the token endpoint.
    async fn poll(&mut self, device_code: &str) {
        let request = json!({
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": device_code,
        });
        let Ok(answer) = self
            .https
            .post_json(&self.url("oauth/token"), &request)
            .await
        else {
            return;
        };
        match (
            answer.text("access_token"),
            answer.text("refresh_token"),
            answer.text("error").as_deref(),
        ) {
            (Some(access_token), Some(refresh_key), _) => {
                let obtained_at_unix = self.setup.clock.unix_seconds();
                self.start_session(Credentials {
                    access_token,
                    refresh_key,
                    obtained_at_unix,
                })
                .await;
            }
            (_, _, Some("authorization_pending" | "slow_down")) => {}
            _ => self.phase = Phase::Disabled,
        }
    }
}
