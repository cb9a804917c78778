//! A disconnect's revocation (OPT-3): sent at once, and, when the cloud cannot be reached or
//! does not acknowledge it, sent again every retry interval until it does. Meanwhile the agent
//! keeps only the token that names the family to revoke (nothing it could renew or connect
//! with: the credential store is erased and the refresh key dropped), and the DMS reads the
//! gateway as `RevocationPending`.

use std::fmt;
use std::time::Duration;

use http::StatusCode;

use super::actor::Actor;
use super::phase::Pending;

/// How often an unacknowledged revocation is sent again.
const RETRY: Duration = Duration::from_secs(10);

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("next_try", &self.next_try)
            .finish_non_exhaustive()
    }
}

impl Pending {
    pub(super) fn into_token(self) -> String {
        self.token
    }
}

impl Actor {
    /// Sends the revocation of `token`'s family; keeps it pending when the cloud did not
    /// acknowledge it (and the policy retries).
    pub(super) async fn revoke(&mut self, token: String) {
        let now = self.setup.clock.unix_seconds();
        if self.acknowledged(&token).await || !self.policy.retry_revocation {
            self.revoking = None;
            return;
        }
        self.revoking = Some(Pending {
            token,
            next_try: now + RETRY.as_secs(),
        });
    }

    /// Sends a pending revocation again when its retry is due.
    pub(super) async fn tick_revocation(&mut self, now: u64) {
        let Some(pending) = self.revoking.take() else {
            return;
        };
        if now < pending.next_try {
            self.revoking = Some(pending);
            return;
        }
        self.revoke(pending.token).await;
    }

    /// Whether the cloud answered the revocation with its RFC 7009 acknowledgement (200).
    async fn acknowledged(&self, token: &str) -> bool {
        let revoke = [("token", token)];
        self.oauth_post("oauth/revoke", &revoke)
            .await
            .is_ok_and(|answer| answer.status == StatusCode::OK)
    }
}
