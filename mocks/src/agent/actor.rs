//! The agent's one task: commands from the DMS and the ticks of the environment's clock, handled
//! one at a time, in order.

use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;

use super::credentials::Credentials;
use super::https::Https;
use super::tunnel::{self, TunnelError, TunnelHandle};
use super::{AgentError, AgentSetup, Caller, Command, Pairing, Reported};
use crate::dma::Permission;
use crate::world::{Fault, Lifetime};

/// How often an idle tunnel is pinged.
const KEEPALIVE: Duration = Duration::from_secs(30);
/// The gateway's retry interval after a failed (re)connection.
const RETRY: Duration = Duration::from_secs(10);

enum Phase {
    Disabled,
    Pairing {
        device_code: String,
        interval: u64,
        next_poll: u64,
        expires_at: u64,
    },
    Connected {
        tunnel: Option<TunnelHandle>,
        next_keepalive: u64,
        next_attempt: u64,
    },
}

struct Actor {
    setup: AgentSetup,
    https: Https,
    lifetime: Lifetime,
    phase: Phase,
}

pub(super) async fn run(setup: AgentSetup, mut inbox: mpsc::Receiver<Command>, lifetime: Lifetime) {
    let mut ticks = setup.clock.watch();
    let https = Https::new(setup.network.clone(), setup.tls.clone());
    let mut actor = Actor {
        setup,
        https,
        lifetime,
        phase: Phase::Disabled,
    };
    if actor.setup.faults.is_on(Fault::AgentConnectBeforeOptin) {
        let _ = actor.begin_pairing().await;
    }
    loop {
        // Clock first: a scenario that advances time and then settles must see the advance
        // acted upon before its settle is answered.
        tokio::select! {
            biased;
            changed = ticks.changed() => {
                if changed.is_err() {
                    break;
                }
                actor.tick().await;
            }
            command = inbox.recv() => match command {
                Some(command) => actor.handle(command).await,
                None => break,
            },
        }
    }
}

impl Actor {
    async fn handle(&mut self, command: Command) {
        match command {
            Command::Enable(caller, reply) => {
                let _ = reply.send(self.enable(&caller).await);
            }
            Command::Disconnect(caller, reply) => {
                let _ = reply.send(self.disconnect(&caller).await);
            }
            Command::Report(reply) => {
                let _ = reply.send(match self.phase {
                    Phase::Disabled => Reported::Disabled,
                    Phase::Pairing { .. } => Reported::Pairing,
                    Phase::Connected { .. } => Reported::Connected,
                });
            }
            Command::Settle(reply) => {
                let _ = reply.send(());
            }
        }
    }

    async fn enable(&mut self, caller: &Caller) -> Result<Pairing, AgentError> {
        self.authorise(caller, Permission::ConnectToCloud)?;
        if !matches!(self.phase, Phase::Disabled) {
            return Err(AgentError::AlreadyConnected);
        }
        self.begin_pairing().await
    }

    async fn disconnect(&mut self, caller: &Caller) -> Result<(), AgentError> {
        self.authorise(caller, Permission::DisconnectFromCloud)?;
        if self.setup.faults.is_on(Fault::AgentDisconnectKeepsTunnel) {
            return Ok(());
        }
        if let Phase::Connected { tunnel, .. } = std::mem::replace(&mut self.phase, Phase::Disabled)
        {
            if let Some(credentials) = self.setup.store.stored() {
                // Best effort: a cloud that cannot be reached still loses the tunnel, and the
                // DMS forgets the token either way.
                let _ = self
                    .https
                    .post_json(
                        &self.url("oauth/revoke"),
                        &json!({ "token": credentials.access_token }),
                    )
                    .await;
            }
            if let Some(tunnel) = tunnel {
                tunnel.close().await;
            }
        }
        self.setup.store.erase();
        Ok(())
    }

    fn authorise(&self, caller: &Caller, permission: Permission) -> Result<(), AgentError> {
        let bypass = permission == Permission::ConnectToCloud
            && self.setup.faults.is_on(Fault::AgentNonAdminCanEnable);
        if caller.may(permission) || bypass {
            return Ok(());
        }
        Err(AgentError::PermissionDenied {
            user: caller.user.clone(),
            permission,
        })
    }

    async fn begin_pairing(&mut self) -> Result<Pairing, AgentError> {
        let answer = self
            .https
            .post_json(
                &self.url("oauth/device_authorization"),
                &json!({ "client_id": "dataminer-cloud-gateway", "dms_id": self.setup.dms_id }),
            )
            .await?;
        let field = |name: &str| {
            answer
                .body
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let (Some(device_code), Some(user_code), Some(verification_uri)) = (
            field("device_code"),
            field("user_code"),
            field("verification_uri"),
        ) else {
            return Err(AgentError::Cloud(format!(
                "device authorization answered HTTP {}",
                answer.status
            )));
        };
        let number = |name: &str, default: u64| {
            answer
                .body
                .get(name)
                .and_then(|v| v.as_u64())
                .unwrap_or(default)
        };
        let now = self.setup.clock.unix_seconds();
        let interval = number("interval", 5);
        self.phase = Phase::Pairing {
            device_code,
            interval,
            next_poll: now + interval,
            expires_at: now + number("expires_in", 900),
        };
        Ok(Pairing {
            user_code,
            verification_uri,
        })
    }

    async fn tick(&mut self) {
        let now = self.setup.clock.unix_seconds();
        match &mut self.phase {
            Phase::Disabled => {}
            Phase::Pairing {
                device_code,
                interval,
                next_poll,
                expires_at,
            } => {
                if now >= *expires_at {
                    self.phase = Phase::Disabled;
                } else if now >= *next_poll {
                    let device_code = device_code.clone();
                    *next_poll = now + *interval;
                    self.poll(&device_code).await;
                }
            }
            Phase::Connected {
                tunnel,
                next_keepalive,
                next_attempt,
            } => {
                if tunnel.as_ref().is_some_and(TunnelHandle::is_down) {
                    *tunnel = None;
                }
                match tunnel {
                    Some(up) if now >= *next_keepalive => {
                        up.ping().await;
                        *next_keepalive = now + KEEPALIVE.as_secs();
                    }
                    Some(_) => {}
                    None if now >= *next_attempt => {
                        *next_attempt = now + RETRY.as_secs();
                        self.open_tunnel().await;
                    }
                    None => {}
                }
            }
        }
    }

    /// One poll of the token endpoint during pairing.
    async fn poll(&mut self, device_code: &str) {
        let answer = self
            .https
            .post_json(
                &self.url("oauth/token"),
                &json!({
                    "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                    "device_code": device_code,
                }),
            )
            .await;
        let Ok(answer) = answer else { return };
        let text = |name: &str| {
            answer
                .body
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        match (
            text("access_token"),
            text("refresh_token"),
            text("error").as_deref(),
        ) {
            (Some(access_token), Some(refresh_key), _) => {
                self.setup.store.save(Credentials {
                    access_token,
                    refresh_key,
                    obtained_at_unix: self.setup.clock.unix_seconds(),
                });
                self.phase = Phase::Connected {
                    tunnel: None,
                    next_keepalive: 0,
                    next_attempt: 0,
                };
                self.open_tunnel().await;
            }
            (_, _, Some("authorization_pending" | "slow_down")) => {}
            _ => self.phase = Phase::Disabled,
        }
    }

    async fn open_tunnel(&mut self) {
        let Some(credentials) = self.setup.store.stored() else {
            self.phase = Phase::Disabled;
            return;
        };
        let opened = tunnel::open(
            &self.setup.network,
            self.setup.tls.clone(),
            &self.setup.urls.tunnel,
            &credentials.access_token,
            &self.lifetime,
        )
        .await;
        let now = self.setup.clock.unix_seconds();
        match opened {
            Ok(up) => {
                self.phase = Phase::Connected {
                    tunnel: Some(up),
                    next_keepalive: now + KEEPALIVE.as_secs(),
                    next_attempt: now + RETRY.as_secs(),
                };
            }
            // The token is dead: only a new connect flow brings the DMS back.
            Err(TunnelError::Refused(401)) => {
                self.setup.store.erase();
                self.phase = Phase::Disabled;
            }
            Err(_) => {
                if let Phase::Connected { next_attempt, .. } = &mut self.phase {
                    *next_attempt = now + RETRY.as_secs();
                }
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.setup.urls.connection)
    }
}
