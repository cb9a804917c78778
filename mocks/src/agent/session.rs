//! The agent's life while connected: several tunnels kept up and pinged, lost ones dialled
//! again with backoff and jitter, and the token renewed well before it expires, with new
//! tunnels made before the old ones are drained.

use std::time::Duration;

use super::actor::Actor;
use super::credentials::Credentials;
use super::forward::Forwarder;
use super::phase::{Phase, Session};
use super::tunnel::{self, TunnelError, TunnelHandle};

/// How often the tunnels are pinged; a tunnel whose ping goes unanswered is dead.
const KEEPALIVE: Duration = Duration::from_secs(30);
/// The real gateway renews daily: a token lives a week, so a DMS survives six days offline.
const RENEW_EVERY: Duration = Duration::from_secs(24 * 3600);

/// What a refresh attempt came to.
enum Renewal {
    Renewed(Credentials),
    /// The cloud refused the refresh key: the family is dead.
    Refused,
    /// The cloud could not answer: keep the token, try again later.
    Unavailable,
}

/// What dialling the missing tunnels came to.
enum Dialled {
    /// Every missing tunnel is up.
    Complete,
    /// A dial failed: try again after a backoff.
    Failed,
    /// The cloud refused the token: only a new connect flow brings the DMS back.
    TokenRefused,
}

impl Actor {
    /// Stores fresh credentials and brings the tunnels up.
    pub(super) async fn start_session(&mut self, credentials: Credentials) {
        let now = self.setup.clock.unix_seconds();
        let next_refresh = renewal_due(&credentials.access_token, now);
        self.setup.store.save(credentials);
        self.phase = Phase::Connected(Session {
            tunnels: Vec::new(),
            next_keepalive: now + KEEPALIVE.as_secs(),
            next_attempt: now,
            failed_attempts: 0,
            next_refresh,
            failed_refreshes: 0,
            had_tunnel: false,
        });
        self.tick_session(now).await;
    }

    /// Closes the tunnels and forgets the token: back to disabled.
    pub(super) async fn end_session(&mut self) {
        if let Phase::Connected(session) = std::mem::replace(&mut self.phase, Phase::Disabled) {
            futures_util::future::join_all(session.tunnels.into_iter().map(TunnelHandle::close))
                .await;
        }
        self.setup.store.erase();
    }

    pub(super) async fn tick_session(&mut self, now: u64) {
        let renew = self.policy.renew;
        let Phase::Connected(session) = &mut self.phase else {
            return;
        };
        session.tunnels.retain(|t| !t.is_down());
        let keep_token = self.policy.keep_token_on_refresh_error;
        if renew && now >= session.next_refresh {
            match self.renew().await {
                Renewal::Renewed(credentials) => self.hand_over(credentials, now).await,
                Renewal::Refused => return self.end_session().await,
                Renewal::Unavailable if keep_token => self.back_off_refresh(now),
                Renewal::Unavailable => return self.end_session().await,
            }
        }
        self.keep_alive(now).await;
        self.redial(now).await;
    }

    /// Pings every tunnel when it is time to; the ones that do not answer are dropped.
    async fn keep_alive(&mut self, now: u64) {
        let detect = self.policy.drop_silent_tunnels;
        let bound = self.setup.ping_timeout;
        let Phase::Connected(session) = &mut self.phase else {
            return;
        };
        if now < session.next_keepalive {
            return;
        }
        session.next_keepalive = now + KEEPALIVE.as_secs();
        let tunnels = std::mem::take(&mut session.tunnels);
        let answers =
            futures_util::future::join_all(tunnels.iter().map(|t| t.is_answering(bound))).await;
        let mut dead = Vec::new();
        for (tunnel, answered) in tunnels.into_iter().zip(answers) {
            if answered || !detect {
                session.tunnels.push(tunnel);
            } else {
                dead.push(tunnel);
            }
        }
        // A peer that does not answer cannot be closed politely either.
        futures_util::future::join_all(dead.into_iter().map(TunnelHandle::cut)).await;
    }

    /// Dials the tunnels that are missing, when the backoff allows.
    async fn redial(&mut self, now: u64) {
        let reconnect = self.policy.redial;
        let Phase::Connected(session) = &self.phase else {
            return;
        };
        let wanted = self.wanted_tunnels();
        if session.tunnels.len() >= wanted
            || now < session.next_attempt
            || (session.had_tunnel && !reconnect)
        {
            return;
        }
        let Some(credentials) = self.setup.store.stored() else {
            return;
        };
        match self.dial_missing(&credentials.access_token, now).await {
            Dialled::Complete => {
                if let Phase::Connected(session) = &mut self.phase {
                    session.failed_attempts = 0;
                }
            }
            Dialled::Failed => self.back_off_dial(now),
            Dialled::TokenRefused if self.policy.end_on_refused_token => {
                self.end_session().await;
            }
            Dialled::TokenRefused => self.back_off_dial(now),
        }
    }

    fn wanted_tunnels(&self) -> usize {
        self.policy.tunnels
    }

    /// Opens tunnels with `token` until the session holds as many as it wants.
    async fn dial_missing(&mut self, token: &str, now: u64) -> Dialled {
        let wanted = self.wanted_tunnels();
        loop {
            let Phase::Connected(session) = &self.phase else {
                return Dialled::Complete;
            };
            if session.tunnels.len() >= wanted {
                return Dialled::Complete;
            }
            match self.open_tunnel(token).await {
                Ok(up) => {
                    if let Phase::Connected(session) = &mut self.phase {
                        session.tunnels.push(up);
                        session.had_tunnel = true;
                        if session.tunnels.len() == 1 {
                            session.next_keepalive = now + KEEPALIVE.as_secs();
                        }
                    }
                }
                Err(TunnelError::Refused(401)) => return Dialled::TokenRefused,
                Err(_) => return Dialled::Failed,
            }
        }
    }

    async fn renew(&mut self) -> Renewal {
        let Some(current) = self.setup.store.stored() else {
            return Renewal::Refused;
        };
        let grant = [
            ("grant_type", "refresh_token"),
            ("refresh_token", current.refresh_key.as_str()),
        ];
        let Ok(answer) = self.oauth_post("oauth/token", &grant).await else {
            return Renewal::Unavailable;
        };
        match (
            answer.status.as_u16(),
            answer.text("access_token"),
            answer.text("refresh_token"),
        ) {
            (200, Some(access_token), Some(refresh_key)) => Renewal::Renewed(Credentials {
                access_token,
                refresh_key,
                obtained_at_unix: self.setup.clock.unix_seconds(),
            }),
            (400 | 401, _, _) => Renewal::Refused,
            _ => Renewal::Unavailable,
        }
    }

    /// Make before break: the new token gets its own tunnels before the old ones are retired;
    /// a retired tunnel takes no new stream and closes once its streams under way are done.
    async fn hand_over(&mut self, credentials: Credentials, now: u64) {
        let cut = !self.policy.drain_on_handover;
        let token = credentials.access_token.clone();
        self.setup.store.save(credentials);
        let Phase::Connected(session) = &mut self.phase else {
            return;
        };
        session.next_refresh = renewal_due(&token, now);
        session.failed_refreshes = 0;
        let old = std::mem::take(&mut session.tunnels);
        let dialled = self.dial_missing(&token, now).await;
        let Phase::Connected(session) = &mut self.phase else {
            return;
        };
        if session.tunnels.is_empty() {
            // No new tunnel yet: the old ones live on their own token until a retry opens one.
            session.tunnels = old;
        } else if cut {
            futures_util::future::join_all(old.into_iter().map(TunnelHandle::cut)).await;
        } else {
            old.into_iter().for_each(TunnelHandle::retire);
        }
        if !matches!(dialled, Dialled::Complete) {
            self.back_off_dial(now);
        }
    }

    fn back_off_refresh(&mut self, now: u64) {
        let backoff = self.policy.backoff;
        if let Phase::Connected(session) = &mut self.phase {
            session.failed_refreshes += 1;
            session.next_refresh = now + backoff.nominal(session.failed_refreshes).as_secs();
        }
    }

    /// Schedules the next dial: the backoff, less a share of it that differs from one DMS to
    /// the next ("equal jitter"), so DMSes cut off together do not all come back at once.
    fn back_off_dial(&mut self, now: u64) {
        let backoff = self.policy.backoff;
        let dms_id = self.setup.dms_id.clone();
        if let Phase::Connected(session) = &mut self.phase {
            session.failed_attempts += 1;
            let delay = backoff.nominal(session.failed_attempts).as_secs();
            let jitter = if backoff.jitter {
                spread(&dms_id, session.failed_attempts) % (delay / 2 + 1)
            } else {
                0
            };
            session.next_attempt = now + delay - jitter;
        }
    }

    async fn open_tunnel(&self, token: &str) -> Result<TunnelHandle, TunnelError> {
        tunnel::open(
            &self.egress,
            self.setup.tls.clone(),
            &self.setup.urls.tunnel,
            token,
            self.setup.network_timeout.get(),
            self.forwarder(),
            &self.lifetime,
        )
        .await
    }

    /// How the agent reaches the DMS side, for tunnel streams and its own calls.
    pub(super) fn forwarder(&self) -> Forwarder {
        Forwarder {
            target: self.setup.forward_to,
            buffer_whole: !self.policy.stream_answers,
            retry: self.policy.retry_forwarded,
            answer_within: self.setup.network_timeout.get(),
            unreachable: self.policy.unreachable_status,
            gateway_key: Some(self.setup.gateway_key),
            viewers: Some(self.viewers.clone()),
            received: Some(self.setup.received.clone()),
        }
    }
}

/// When to renew a token received at `now` (the DMS's clock): daily, and in any case by half
/// its life. The life is read as the token states it, `exp - iat` (both on the cloud's clock),
/// and counted from receipt on the DMS's clock: comparing `exp` with a clock that drifted
/// would move the renewal by the drift.
fn renewal_due(token: &str, now: u64) -> u64 {
    let daily = RENEW_EVERY.as_secs();
    let life = stated_life(token).unwrap_or(2 * daily);
    now + daily.min(life / 2)
}

/// `exp - iat` of a JWT, read without verifying it: the agent holds the token, the cloud
/// judges it.
fn stated_life(token: &str) -> Option<u64> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims["exp"].as_u64()?.checked_sub(claims["iat"].as_u64()?)
}

/// A number that differs from one DMS and attempt to the next but is the same on every run,
/// so a scenario can replay a schedule (FNV-1a).
fn spread(dms_id: &str, attempt: u32) -> u64 {
    dms_id
        .bytes()
        .chain(attempt.to_le_bytes())
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn token(iat: u64, exp: u64) -> String {
        let claims = URL_SAFE_NO_PAD.encode(format!(r#"{{"iat":{iat},"exp":{exp}}}"#));
        format!("e30.{claims}.sig")
    }

    #[test]
    fn renewal_is_daily_by_half_life_at_the_latest_and_counted_from_receipt() {
        let week = 7 * 24 * 3600;
        // The cloud's iat is far from the DMS's clock: only the stated life counts.
        assert_eq!(
            renewal_due(&token(1_000_000, 1_000_000 + week), 500),
            500 + 86_400
        );
        assert_eq!(renewal_due(&token(10, 10 + 3600), 500), 500 + 1800);
        assert_eq!(renewal_due("not a token", 500), 500 + 86_400);
    }
}
