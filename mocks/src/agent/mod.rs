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
mod pairing;
mod policy;
mod process;
mod proxy;
mod revocation;
mod session;
mod shares;
mod timeout;
mod tls;
mod tunnel;
#[cfg(test)]
mod tunnel_props;
mod wsio;

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// The control channel's messages live below the agent and the DMA both.
pub use crate::dms::{Caller, Pairing, Permission, Reported, ShareNotice};
use crate::dms::{ControlAnswer, ControlRequest};
use crate::world::net::{NetError, Network};
use crate::world::{Clock, FaultSet, Lifetime};

pub use control::serve_control;
pub use credentials::{CredentialStore, Credentials, DmsKey, KeyError};
pub use egress::EgressError;
pub use https::HttpsError;
pub use process::{ProcessConfig, ProcessError};
pub use proxy::{ProxyCredentials, ProxyError, ProxyOptions};
pub use timeout::NetworkTimeout;
pub use tls::client_config;
pub use tunnel::TunnelError;
/// The WebSocket-as-byte-stream adapter both ends of a tunnel run HTTP/2 on; public so a
/// benchmark can stand up many light agents without the agent's actor.
pub use wsio::{WsControl, WsIo, tunnel_config};

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
    /// No Cloud Gateway process is connected to the DMS's control channel.
    #[error("the Cloud Gateway's process is not connected to the DMS")]
    Detached,
    /// The Cloud Gateway's process failed the request; its own words.
    #[error("{0}")]
    Remote(String),
}

/// The cloud URLs the agent is configured with, as published (no ports).
#[derive(Debug, Clone)]
pub struct CloudUrls {
    pub connection: String,
    pub tunnel: String,
}

/// What the agent needs to start.
#[derive(Debug)]
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
    pub gateway_key: crate::dma::GatewayKey,
    /// The DMZ proxy the agent goes out through, when enabled.
    pub proxy: ProxyOptions,
}

enum Command {
    Enable(Caller, oneshot::Sender<Result<Pairing, AgentError>>),
    Disconnect(Caller, oneshot::Sender<Result<(), AgentError>>),
    Report(oneshot::Sender<Reported>),
    Settle(oneshot::Sender<()>),
    Publish(Box<ShareNotice>, oneshot::Sender<Result<u64, AgentError>>),
    Withdraw(String, oneshot::Sender<Result<(), AgentError>>),
}

/// A handle on the running agent: the same interface whether it runs in this process or as
/// its own, reached over the control channel it dialled.
#[derive(Debug, Clone)]
pub struct Agent {
    link: Link,
}

#[derive(Debug, Clone)]
enum Link {
    Local(mpsc::Sender<Command>),
    Remote(Arc<control::RemoteLink>),
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
        let (commands, inbox) = mpsc::channel(16);
        lifetime.spawn(actor::run(setup, policy, egress, inbox, lifetime.clone()));
        Ok(Self {
            link: Link::Local(commands),
        })
    }

    /// The DMA's handle on a gateway that runs as its own process and dials `listener`;
    /// `clock` is the environment's, carried to the process at each settle.
    pub fn over_channel(listener: TcpListener, clock: Clock, lifetime: &Lifetime) -> Self {
        Self {
            link: Link::Remote(control::RemoteLink::listen(listener, clock, lifetime)),
        }
    }

    /// Whether the gateway is there to be driven: an in-process one always is; a process
    /// once it has dialled in (waiting at most `bound`).
    pub async fn attached(&self, bound: std::time::Duration) -> bool {
        match &self.link {
            Link::Local(_) => true,
            Link::Remote(link) => link.wait_attached(bound).await,
        }
    }

    /// An Administrator asks the DMS to connect: starts the connect flow.
    pub async fn enable(&self, caller: Caller) -> Result<Pairing, AgentError> {
        match self.remote(ControlRequest::Enable(caller.clone())).await {
            None => self.ask(|reply| Command::Enable(caller, reply)).await?,
            Some(ControlAnswer::Paired(pairing)) => Ok(pairing),
            Some(other) => Err(unexpected(other)),
        }
    }

    /// A user asks the DMS to disconnect from the cloud.
    pub async fn disconnect(&self, caller: Caller) -> Result<(), AgentError> {
        match self
            .remote(ControlRequest::Disconnect(caller.clone()))
            .await
        {
            None => self.ask(|reply| Command::Disconnect(caller, reply)).await?,
            Some(ControlAnswer::Done) => Ok(()),
            Some(other) => Err(unexpected(other)),
        }
    }

    /// A DMS user shared a dashboard: the gateway opens the share user's session and tells the
    /// cloud, which mails the links. Answers how many links the cloud sent.
    pub async fn publish_share(&self, notice: ShareNotice) -> Result<u64, AgentError> {
        let notice = Box::new(notice);
        match self.remote(ControlRequest::Publish(notice.clone())).await {
            None => self.ask(|reply| Command::Publish(notice, reply)).await?,
            Some(ControlAnswer::LinksSent(sent)) => Ok(sent),
            Some(other) => Err(unexpected(other)),
        }
    }

    /// A share was deleted on the DMS: the gateway tells the cloud, which ends its links.
    pub async fn withdraw_share(&self, share_id: &str) -> Result<(), AgentError> {
        let share_id = share_id.to_owned();
        let request = ControlRequest::Withdraw {
            share_id: share_id.clone(),
        };
        match self.remote(request).await {
            None => self.ask(|reply| Command::Withdraw(share_id, reply)).await?,
            Some(ControlAnswer::Done) => Ok(()),
            Some(other) => Err(unexpected(other)),
        }
    }

    pub async fn reported(&self) -> Result<Reported, AgentError> {
        match self.remote(ControlRequest::Report).await {
            None => self.ask(Command::Report).await,
            Some(ControlAnswer::State(state)) => Ok(state),
            Some(other) => Err(unexpected(other)),
        }
    }

    /// Returns once the agent has acted on every command sent and every clock advance made
    /// before this call: a synchronisation point, not a claim about its state.
    pub async fn settle(&self) {
        match &self.link {
            Link::Local(_) => {
                let _ = self.ask(Command::Settle).await;
            }
            Link::Remote(link) => {
                let _ = link.ask(&link.settle_request()).await;
            }
        }
    }

    /// The answer of a process agent; `None` for one in this process.
    async fn remote(&self, request: ControlRequest) -> Option<ControlAnswer> {
        match &self.link {
            Link::Local(_) => None,
            Link::Remote(link) => Some(
                link.ask(&request)
                    .await
                    .unwrap_or_else(|e| ControlAnswer::Failed(e.to_string())),
            ),
        }
    }

    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, AgentError> {
        let Link::Local(commands) = &self.link else {
            return Err(AgentError::Detached);
        };
        let (reply, answer) = oneshot::channel();
        commands
            .send(command(reply))
            .await
            .map_err(|_| AgentError::Stopped)?;
        answer.await.map_err(|_| AgentError::Stopped)
    }
}

/// A process agent's failure or an answer that does not fit the request.
fn unexpected(answer: ControlAnswer) -> AgentError {
    match answer {
        ControlAnswer::Failed(message) => AgentError::Remote(message),
        other => AgentError::Remote(format!("unexpected answer {other:?}")),
    }
}
