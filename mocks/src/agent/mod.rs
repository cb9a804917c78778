//! The Cloud Gateway on the DMS side. It never listens on a socket: it starts disabled, runs the
//! connect flow when an Administrator enables it, holds several outbound WSS tunnels that carry
//! the cloud's requests to the DMS as HTTP/2 streams, keeps them alive and redials lost ones,
//! and tears everything down on disconnect. Every byte it sends leaves through the
//! environment's `Network`, so the environment sees all of it.

mod actor;
mod cloud_time;
mod control;
mod credentials;
mod diagnostics;
mod egress;
mod forward;
pub(crate) mod fuzzing;
mod https;
mod log_outs;
mod pairing;
mod phase;
mod policy;
mod process;
mod proxy;
mod received;
mod revocation;
mod session;
mod shares;
mod timeout;
mod tls;
mod tunnel;
#[cfg(test)]
mod tunnel_props;
mod viewers;
mod withdrawals;

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::dms::Gateway;
/// The control channel's messages live below the agent and the DMA both.
pub use crate::dms::{Caller, Pairing, Permission, Reported, ShareNotice};
use crate::world::net::{NetError, Network};
use crate::world::{Clock, FaultSet, Lifetime};

pub use control::serve_control;
pub use credentials::{CredentialStore, Credentials, DmsKey, KeyError};
pub use egress::EgressError;
pub use https::HttpsError;
pub use process::{ProcessConfig, ProcessError};
pub use proxy::{ProxyCredentials, ProxyError, ProxyOptions};
pub use received::{ReceivedStream, ReceivedStreams};
pub use timeout::NetworkTimeout;
pub use tls::client_config;
pub use tunnel::TunnelError;

/// How long the agent waits on one exchange or tunnel handshake by default.
pub const NETWORK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Why the agent refused or failed a request.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The caller lacks the DMS permission the action needs.
    #[error("{user} lacks the DMS permission \"{permission}\"")]
    PermissionDenied {
        user: String,
        permission: Permission,
    },
    /// Enable was asked while the last disconnect's revocation is still unacknowledged.
    #[error("the last disconnect's revocation is not acknowledged by dataminer.services yet")]
    RevocationPending,
    /// Enable was asked while a connection is already up or being set up.
    #[error("the DMS is already connected to dataminer.services")]
    AlreadyConnected,
    /// A configured cloud URL is not HTTPS/WSS: the agent will not speak plaintext.
    #[error("refusing a non-TLS cloud URL: {0}")]
    PlaintextUrl(String),
    /// The cloud could not be reached.
    #[error(transparent)]
    Network(#[from] NetError),
    /// The proxy settings are not usable.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// An HTTPS exchange with the cloud failed.
    #[error(transparent)]
    Https(#[from] HttpsError),
    /// The DMS's key pair could not be made, or an assertion signed with it.
    #[error(transparent)]
    Key(#[from] credentials::KeyError),
    /// The cloud answered, but not with what the flow expects.
    #[error("dataminer.services refused: {0}")]
    Cloud(String),
    /// A share was asked of a DMS that is not connected to dataminer.services.
    #[error("the DMS is not connected to dataminer.services")]
    NotConnected,
    /// The agent has stopped with its environment.
    #[error("the agent has stopped")]
    Stopped,
}

/// The cloud URLs the agent is configured with, as published (no ports).
#[derive(Debug, Clone)]
pub struct CloudUrls {
    pub connection: String,
    pub tunnel: String,
}

/// What the agent needs to start.
#[derive(Debug, Clone)]
pub struct AgentSetup {
    pub dms_id: String,
    /// The DMS's name, as the approval page shows it.
    pub dms_name: String,
    /// The dataminer.services organisation the DMS is set up to join.
    pub organization: String,
    pub urls: CloudUrls,
    pub clock: Clock,
    pub faults: FaultSet,
    pub network: Network,
    pub tls: Arc<rustls::ClientConfig>,
    pub store: CredentialStore,
    /// How long one exchange or tunnel handshake may take before the agent gives up on it.
    /// Network time, not a security decision: the environment's clock does not govern it.
    pub network_timeout: NetworkTimeout,
    /// How long a tunnel's keepalive ping may go unanswered before the agent takes the tunnel
    /// for dead; real time too.
    pub ping_timeout: std::time::Duration,
    /// Where the streams that arrive through the tunnel go: the WAF in front of the DMA.
    pub forward_to: std::net::SocketAddr,
    /// The key the DMS handed its Cloud Gateway for the DMA's gateway channel.
    pub gateway_key: crate::dms::GatewayKey,
    /// The DMZ proxy the agent goes out through, when enabled.
    pub proxy: ProxyOptions,
    /// Where the agent records every stream its tunnels received.
    pub received: ReceivedStreams,
}

enum Command {
    Enable(Caller, oneshot::Sender<Result<Pairing, AgentError>>),
    Disconnect(Caller, oneshot::Sender<Result<(), AgentError>>),
    Report(oneshot::Sender<Reported>),
    Settle(oneshot::Sender<()>),
    Publish(Box<ShareNotice>, oneshot::Sender<Result<u64, AgentError>>),
    Withdraw(
        String,
        oneshot::Sender<Result<crate::dms::Withdrawal, AgentError>>,
    ),
}

/// A handle on the running agent, in this process. The DMA never holds one: it drives the
/// gateway through the control channel ([`crate::dms::Gateway`]), served by [`Agent::serve`].
#[derive(Debug, Clone)]
pub struct Agent {
    /// The running gateway's inbox: a restart puts the new one's here.
    commands: Arc<std::sync::Mutex<mpsc::Sender<Command>>>,
    restarts: Arc<Restarts>,
}

/// What a restart of the gateway process starts again from: its setup (the DMS's disk, its
/// credential store, included) and the lifetime its current run's tasks are in.
#[derive(Debug)]
struct Restarts {
    setup: AgentSetup,
    outer: Lifetime,
    current: std::sync::Mutex<Lifetime>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Enable(..) => "Enable",
            Command::Disconnect(..) => "Disconnect",
            Command::Report(_) => "Report",
            Command::Settle(_) => "Settle",
            Command::Publish(..) => "Publish",
            Command::Withdraw(..) => "Withdraw",
        })
    }
}

impl Agent {
    /// Starts the agent, disabled. Refuses plaintext cloud URLs before anything is sent.
    pub fn start(setup: AgentSetup, lifetime: &Lifetime) -> Result<Self, AgentError> {
        let policy = policy::AgentPolicy::from_faults(&setup.faults);
        for (url, scheme) in [
            (&setup.urls.connection, "https://"),
            (&setup.urls.tunnel, "wss://"),
        ] {
            if !url.starts_with(scheme) && policy.refuse_plaintext_urls {
                return Err(AgentError::PlaintextUrl(url.clone()));
            }
        }
        let egress = egress::Egress::new(
            setup.network.clone(),
            egress::EgressPolicy::from_faults(&setup.faults),
            &setup.proxy,
        )?;
        diagnostics::Diagnostics::from_faults(&setup.faults).start();
        let run = lifetime.child();
        let (commands, inbox) = mpsc::channel(16);
        run.spawn(actor::run(
            setup.clone(),
            policy,
            egress,
            inbox,
            run.clone(),
        ));
        Ok(Self {
            commands: Arc::new(std::sync::Mutex::new(commands)),
            restarts: Arc::new(Restarts {
                setup,
                outer: lifetime.clone(),
                current: std::sync::Mutex::new(run),
            }),
        })
    }

    /// The gateway process ends (its tunnels and everything it held in memory with it) and
    /// starts again on the same DMS: what is on the DMS's disk (key pair, token, pending
    /// withdrawals) is what it carries on with. The DMA's handle reaches the new one.
    pub async fn restart(&self) -> Result<(), AgentError> {
        let setup = self.restarts.setup.clone();
        let policy = policy::AgentPolicy::from_faults(&setup.faults);
        let egress = egress::Egress::new(
            setup.network.clone(),
            egress::EgressPolicy::from_faults(&setup.faults),
            &setup.proxy,
        )?;
        let run = self.restarts.outer.child();
        let ended = std::mem::replace(&mut *lock(&self.restarts.current), run.clone());
        ended.stop().await;
        let (commands, inbox) = mpsc::channel(16);
        run.spawn(actor::run(setup, policy, egress, inbox, run.clone()));
        *lock(&self.commands) = commands;
        Ok(())
    }

    /// The DMS's control channel to this agent, served in this process; `clock` is the DMS's.
    pub fn serve(&self, clock: Clock, lifetime: &Lifetime) -> Gateway {
        let (gateway, inbox) = Gateway::in_process(clock.clone());
        control::serve_in_process(self.clone(), clock, inbox, lifetime);
        gateway
    }

    /// An Administrator asks the DMS to connect: starts the connect flow.
    pub async fn enable(&self, caller: Caller) -> Result<Pairing, AgentError> {
        self.ask(|reply| Command::Enable(caller, reply)).await?
    }

    /// A user asks the DMS to disconnect from the cloud.
    pub async fn disconnect(&self, caller: Caller) -> Result<(), AgentError> {
        self.ask(|reply| Command::Disconnect(caller, reply)).await?
    }

    /// A DMS user shared a dashboard: the gateway opens the share user's session and tells the
    /// cloud, which mails the links. Answers how many links the cloud sent.
    pub async fn publish_share(&self, notice: ShareNotice) -> Result<u64, AgentError> {
        let notice = Box::new(notice);
        self.ask(|reply| Command::Publish(notice, reply)).await?
    }

    /// A share was deleted on the DMS: the gateway tells the cloud, which ends its links, or
    /// keeps the end to send as soon as it can (`Withdrawal::Pending`).
    pub async fn withdraw_share(
        &self,
        share_id: &str,
    ) -> Result<crate::dms::Withdrawal, AgentError> {
        let share_id = share_id.to_owned();
        self.ask(|reply| Command::Withdraw(share_id, reply)).await?
    }

    pub async fn reported(&self) -> Result<Reported, AgentError> {
        self.ask(Command::Report).await
    }

    /// Returns once the agent has acted on every command sent and every clock advance made
    /// before this call: a synchronisation point, not a claim about its state.
    pub async fn settle(&self) {
        let _ = self.ask(Command::Settle).await;
    }

    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, AgentError> {
        let (reply, answer) = oneshot::channel();
        let commands = lock(&self.commands).clone();
        commands
            .send(command(reply))
            .await
            .map_err(|_| AgentError::Stopped)?;
        answer.await.map_err(|_| AgentError::Stopped)
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
