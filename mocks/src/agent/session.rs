//! The agent's life while connected: one tunnel kept up and pinged, and the token renewed well
//! before it expires, with a new tunnel made before the old one is broken.

use std::time::Duration;

use serde_json::json;

use super::actor::{Actor, Phase};
use super::credentials::Credentials;
use super::forward::Forwarder;
use super::tunnel::{self, TunnelError, TunnelHandle};
use crate::world::Fault;

/// How often an idle tunnel is pinged.
const KEEPALIVE: Duration = Duration::from_secs(30);
/// The gateway's retry interval after a failed connection or refresh; refreshes back off from
/// it, doubling up to `RETRY_CAP`.
const RETRY: Duration = Duration::from_secs(10);
const RETRY_CAP: Duration = Duration::from_secs(300);
/// The real gateway renews daily: a token lives a week, so a DMS survives six days offline.
const RENEW_EVERY: Duration = Duration::from_secs(24 * 3600);

/// The state of a connected DMS.
pub(super) struct Session {
    tunnel: Option<TunnelHandle>,
    next_keepalive: u64,
    next_attempt: u64,
    next_refresh: u64,
    failed_refreshes: u32,
    /// Whether a tunnel was up once: the `agent.no-reconnect` fault never replaces a lost one.
    had_tunnel: bool,
}

/// What a refresh attempt came to.
enum Renewal {
    Renewed(Credentials),
    /// The cloud refused the refresh key: the family is dead.
    Refused,
    /// The cloud could not answer: keep the token, try again later.
    Unavailable,
}

impl Actor {
    /// Stores fresh credentials and brings the tunnel up.
    pub(super) async fn start_session(&mut self, credentials: Credentials) {
        let now = self.setup.clock.unix_seconds();
        self.setup.store.save(credentials);
        self.phase = Phase::Connected(Session {
            tunnel: None,
            next_keepalive: now + KEEPALIVE.as_secs(),
            next_attempt: now,
            next_refresh: now + RENEW_EVERY.as_secs(),
            failed_refreshes: 0,
            had_tunnel: false,
        });
        self.tick_session(now).await;
    }

    /// Closes the tunnel and forgets the token: back to disabled.
    pub(super) async fn end_session(&mut self) {
        if let Phase::Connected(session) = std::mem::replace(&mut self.phase, Phase::Disabled)
            && let Some(tunnel) = session.tunnel
        {
            tunnel.close().await;
        }
        self.setup.store.erase();
    }

    pub(super) async fn tick_session(&mut self, now: u64) {
        let renew = !self.setup.faults.is_on(Fault::AgentNoAutoRefresh);
        let reconnect = !self.setup.faults.is_on(Fault::AgentNoReconnect);
        let Phase::Connected(session) = &mut self.phase else {
            return;
        };
        if session.tunnel.as_ref().is_some_and(TunnelHandle::is_down) {
            session.tunnel = None;
        }
        if renew && now >= session.next_refresh {
            match self.renew().await {
                Renewal::Renewed(credentials) => self.hand_over(credentials, now).await,
                Renewal::Refused => return self.end_session().await,
                Renewal::Unavailable => self.back_off(now),
            }
        }
        let Phase::Connected(session) = &mut self.phase else {
            return;
        };
        match &session.tunnel {
            Some(up) if now >= session.next_keepalive => {
                up.ping().await;
                session.next_keepalive = now + KEEPALIVE.as_secs();
            }
            Some(_) => {}
            None if now >= session.next_attempt && (reconnect || !session.had_tunnel) => {
                session.next_attempt = now + RETRY.as_secs();
                if let Some(credentials) = self.setup.store.stored() {
                    match self.open_tunnel(&credentials.access_token).await {
                        Ok(up) => self.install_tunnel(up, now),
                        // The token is dead: only a new connect flow brings the DMS back.
                        Err(TunnelError::Refused(401)) => self.end_session().await,
                        Err(_) => {}
                    }
                }
            }
            None => {}
        }
    }

    async fn renew(&mut self) -> Renewal {
        let Some(current) = self.setup.store.stored() else {
            return Renewal::Refused;
        };
        let request =
            json!({ "grant_type": "refresh_token", "refresh_token": current.refresh_key });
        let Ok(answer) = self
            .https
            .post_json(&self.url("oauth/token"), &request)
            .await
        else {
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

    /// Make before break: the new token gets its own tunnel before the old tunnel closes.
    async fn hand_over(&mut self, credentials: Credentials, now: u64) {
        let opened = self.open_tunnel(&credentials.access_token).await;
        self.setup.store.save(credentials);
        if let Phase::Connected(session) = &mut self.phase {
            session.next_refresh = now + RENEW_EVERY.as_secs();
            session.failed_refreshes = 0;
        }
        match opened {
            Ok(up) => self.install_tunnel(up, now),
            Err(_) => {
                // The old tunnel lives on its own token until the retry opens a new one.
                if let Phase::Connected(session) = &mut self.phase {
                    session.next_attempt = now + RETRY.as_secs();
                }
            }
        }
    }

    fn back_off(&mut self, now: u64) {
        if let Phase::Connected(session) = &mut self.phase {
            session.failed_refreshes += 1;
            let doubled = RETRY.as_secs() << (session.failed_refreshes - 1).min(10);
            session.next_refresh = now + doubled.min(RETRY_CAP.as_secs());
        }
    }

    /// Puts `up` in place, closing the tunnel it replaces.
    fn install_tunnel(&mut self, up: TunnelHandle, now: u64) {
        if let Phase::Connected(session) = &mut self.phase {
            let old = session.tunnel.replace(up);
            session.had_tunnel = true;
            session.next_keepalive = now + KEEPALIVE.as_secs();
            if let Some(old) = old {
                // Dropping the handle closes the old tunnel on its own task.
                drop(old);
            }
        }
    }

    async fn open_tunnel(&self, token: &str) -> Result<TunnelHandle, TunnelError> {
        tunnel::open(
            &self.setup.network,
            self.setup.tls.clone(),
            &self.setup.urls.tunnel,
            token,
            self.setup.network_timeout,
            Forwarder {
                target: self.setup.forward_to,
                buffer_whole: self.setup.faults.is_on(Fault::AgentNoFlowControl),
            },
            &self.lifetime,
        )
        .await
    }
}
