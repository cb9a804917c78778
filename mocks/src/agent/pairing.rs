//! The agent's half of the connect flow (RFC 8628, with the DMS authenticating by its key as
//! RFC 7523 says): make the DMS's key pair if it has none, ask for a device code naming the
//! DMS, the organisation it is set up to join and its public key, hand the user code to the
//! Administrator, and poll until the cloud delivers the token on this connection. Every
//! request to the cloud's OAuth endpoints carries a fresh assertion signed with the key.

use super::actor::Actor;
use super::credentials::{Credentials, DmsKey};
use super::https::Answer;
use super::phase::{PendingApproval, Phase};
use super::{AgentError, Pairing};

/// RFC 8628 §3.5: after a `slow_down`, the interval grows by five seconds.
const SLOW_DOWN_STEP: u64 = 5;

impl Actor {
    pub(super) async fn begin_pairing(&mut self) -> Result<Pairing, AgentError> {
        let key = self.dms_key()?;
        let (name, organization) = (self.setup.dms_name.clone(), self.setup.organization.clone());
        let answer = self
            .oauth_post(
                "oauth/device_authorization",
                &[
                    ("dms_name", &name),
                    ("organization", &organization),
                    ("jwk", key.jwk()),
                ],
            )
            .await?;
        let (Some(device_code), Some(user_code), Some(verification_uri)) = (
            answer.text("device_code"),
            answer.text("user_code"),
            answer.text("verification_uri"),
        ) else {
            return Err(AgentError::Cloud(format!(
                "device authorization answered HTTP {} {}",
                answer.status,
                answer.text("error").unwrap_or_default()
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
        let Ok(answer) = self
            .oauth_post(
                "oauth/token",
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("device_code", device_code),
                ],
            )
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
            (_, _, Some("authorization_pending")) => {}
            (_, _, Some("slow_down")) => {
                if let Phase::Pairing(pending) = &mut self.phase {
                    pending.interval += SLOW_DOWN_STEP;
                    pending.next_poll += SLOW_DOWN_STEP;
                }
            }
            _ => self.phase = Phase::Disabled,
        }
    }

    /// The DMS's key pair: the stored one, or a new one stored now.
    fn dms_key(&self) -> Result<DmsKey, AgentError> {
        if let Some(key) = self.setup.store.key() {
            return Ok(key);
        }
        let key = DmsKey::generate()?;
        self.setup.store.save_key(key.clone());
        Ok(key)
    }

    /// POSTs `params` form-encoded to the cloud's connection endpoint at `path`, as this DMS:
    /// its ID as `client_id` and a fresh assertion signed with its key, stamped on the cloud's
    /// time as far as the agent knows it. An assertion refused while the answer's `Date` shows
    /// the DMS's clock far off is signed again once, on the corrected time.
    pub(super) async fn oauth_post(
        &self,
        path: &str,
        params: &[(&str, &str)],
    ) -> Result<Answer, AgentError> {
        let answer = self.signed_post(path, params).await?;
        let local = self.setup.clock.unix_seconds();
        let corrected = self.policy.learn_cloud_time && self.cloud_time.learn(answer.date, local);
        let refused = answer.text("error").as_deref() == Some("invalid_client");
        if corrected && refused {
            return self.signed_post(path, params).await;
        }
        Ok(answer)
    }

    async fn signed_post(&self, path: &str, params: &[(&str, &str)]) -> Result<Answer, AgentError> {
        let key = self.dms_key()?;
        let now = self.cloud_time.at(self.setup.clock.unix_seconds());
        let issuer = &self.setup.urls.connection;
        let assertion = key.assertion(&self.setup.dms_id, issuer, now)?;
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", &self.setup.dms_id),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &assertion),
        ];
        form.extend_from_slice(params);
        Ok(self.https.post_form(&self.url(path), &form).await?)
    }
}
