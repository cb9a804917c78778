//! The agent's one task: commands from the DMS and the ticks of the environment's clock, handled
//! one at a time, in order. Pairing (the connect flow) and the session (tunnel, keepalive,
//! renewal) are the two halves of its life, each in its own module.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::cloud_time::CloudTime;
use super::egress::Egress;
use super::https::Https;
use super::phase::Phase;
use super::policy::AgentPolicy;
use super::viewers::Viewers;
use super::{AgentError, AgentSetup, Caller, Command, Pairing, Reported};
use crate::dms::Permission;
use crate::world::Lifetime;

pub(super) struct Actor {
    pub setup: AgentSetup,
    pub policy: AgentPolicy,
    pub https: Https,
    pub egress: Egress,
    pub lifetime: Lifetime,
    pub phase: Phase,
    pub cloud_time: CloudTime,
    /// The share users' credentials and their viewers' sessions, shared with every tunnel.
    pub viewers: Arc<Viewers>,
    /// Shares deleted on the DMS whose end the cloud has not taken yet (`withdrawals`).
    pub pending_withdrawals: Vec<String>,
    /// A disconnect's revocation the cloud has not acknowledged yet.
    pub revoking: Option<super::phase::Pending>,
}

pub(super) async fn run(
    setup: AgentSetup,
    policy: AgentPolicy,
    egress: Egress,
    mut inbox: mpsc::Receiver<Command>,
    lifetime: Lifetime,
) {
    let mut ticks = setup.clock.watch();
    let https = Https::new(
        egress.clone(),
        setup.tls.clone(),
        setup.network_timeout.clone(),
    );
    let viewers = Arc::new(Viewers::new(
        policy.viewer_sessions,
        policy.viewer_sessions_per_share,
        policy.retry_log_outs,
    ));
    let mut actor = Actor {
        setup,
        policy,
        https,
        egress,
        lifetime,
        phase: Phase::Disabled,
        cloud_time: CloudTime::default(),
        viewers,
        pending_withdrawals: Vec::new(),
        revoking: None,
    };
    actor.pending_withdrawals = actor.pending_withdrawals_on_disk();
    if actor.policy.pair_at_boot {
        let _ = actor.begin_pairing().await;
    } else if let Some(credentials) = actor.setup.store.stored() {
        // A gateway (re)started on a DMS that holds its token carries on where it was.
        actor.start_session(credentials).await;
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
                    Phase::Disabled
                        if self.revoking.is_some() && self.policy.report_pending_revocation =>
                    {
                        Reported::RevocationPending
                    }
                    Phase::Disabled => Reported::Disabled,
                    Phase::Pairing(_) => Reported::Pairing,
                    Phase::Connected(_) => Reported::Connected,
                });
            }
            Command::Settle(reply) => {
                let _ = reply.send(());
            }
            Command::Publish(notice, reply) => {
                let _ = reply.send(self.publish(&notice).await);
            }
            Command::Withdraw(share_id, reply) => {
                let _ = reply.send(self.withdraw_or_keep(&share_id).await);
            }
        }
    }

    async fn tick(&mut self) {
        let now = self.setup.clock.unix_seconds();
        self.tick_revocation(now).await;
        match self.phase {
            Phase::Disabled => {}
            Phase::Pairing(_) => self.tick_pairing(now).await,
            Phase::Connected(_) => self.tick_session(now).await,
        }
        self.send_pending_withdrawals().await;
        self.send_unended_log_outs().await;
    }

    async fn enable(&mut self, caller: &Caller) -> Result<Pairing, AgentError> {
        self.authorise(caller, Permission::ConnectToCloud)?;
        if !matches!(self.phase, Phase::Disabled) {
            return Err(AgentError::AlreadyConnected);
        }
        // A new family must not be born before the old one's revocation is through: the
        // cloud's revocation ends every family of the DMS.
        if let Some(pending) = self.revoking.take() {
            self.revoke(pending.into_token()).await;
            if self.revoking.is_some() {
                return Err(AgentError::RevocationPending);
            }
        }
        self.begin_pairing().await
    }

    async fn disconnect(&mut self, caller: &Caller) -> Result<(), AgentError> {
        self.authorise(caller, Permission::DisconnectFromCloud)?;
        if !self.policy.disconnect_tears_down {
            return Ok(());
        }
        let held = match self.phase {
            Phase::Connected(_) => self.setup.store.stored(),
            Phase::Disabled | Phase::Pairing(_) => None,
        };
        // The tunnels close and the DMS forgets what connects it at once; only the token that
        // names the family to revoke is kept, until the cloud acknowledges its revocation.
        self.end_session().await;
        if let Some(credentials) = held {
            self.revoke(credentials.access_token).await;
        }
        Ok(())
    }

    fn authorise(&self, caller: &Caller, permission: Permission) -> Result<(), AgentError> {
        let bypass = permission == Permission::ConnectToCloud && self.policy.enable_needs.is_none();
        if caller.may(permission) || bypass {
            return Ok(());
        }
        Err(AgentError::PermissionDenied {
            user: caller.user.clone(),
            permission,
        })
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.setup.urls.connection)
    }
}
