//! The messages of the DMA's control channel to its Cloud Gateway: who asks, and what the
//! gateway answers.

use super::{Permission, ShareNotice};

/// The DMS user on whose behalf the agent is asked to act, with the DMS permissions they hold.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Caller {
    pub user: String,
    pub permissions: Vec<Permission>,
}

impl Caller {
    pub fn may(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }
}

/// What the Administrator needs to approve this DMS in the cloud.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Pairing {
    pub user_code: String,
    pub verification_uri: String,
}

/// The agent's own account of its state: for the DMS's user interface, never for a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Reported {
    Disabled,
    Pairing,
    Connected,
    /// Disconnected on the DMS, the revocation not yet acknowledged by the cloud: the gateway
    /// sends it again until it is.
    RevocationPending,
}

/// A request on the control channel.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum ControlRequest {
    Enable(Caller),
    Disconnect(Caller),
    Report,
    /// A dashboard was shared: log the share user in on the DMS side and tell the cloud.
    Publish(Box<ShareNotice>),
    /// A share was deleted on the DMS: tell the cloud, which ends its links.
    Withdraw {
        share_id: String,
    },
    /// Settle, once the gateway's clock reads `now_unix` (the environment's simulated time).
    Settle {
        now_unix: u64,
    },
}

/// The gateway's answer to one request.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum ControlAnswer {
    Paired(Pairing),
    Done,
    State(Reported),
    /// How many links the cloud mailed for a published share.
    LinksSent(u64),
    /// The request failed; the gateway's error, as the operator is to read it.
    Failed(ControlError),
    /// A share's end could not reach the cloud yet: the gateway keeps it (why, for the user).
    WithdrawalPending(String),
}

/// Why the gateway refused or failed a request, as the DMA reads it on the control channel.
/// The variants the DMA acts on are kinds; the rest is the gateway's own words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum ControlError {
    /// The caller lacks the DMS permission the action needs.
    #[error("{user} lacks the DMS permission \"{permission}\"")]
    PermissionDenied {
        user: String,
        permission: Permission,
    },
    /// Enable was asked while a connection is already up or being set up.
    #[error("the DMS is already connected to dataminer.services")]
    AlreadyConnected,
    /// A share was asked of a DMS that is not connected to dataminer.services.
    #[error("the DMS is not connected to dataminer.services")]
    NotConnected,
    /// No Cloud Gateway is attached to the control channel, or it stopped answering.
    #[error("the Cloud Gateway's process is not connected to the DMS")]
    Detached,
    /// The gateway has stopped.
    #[error("the agent has stopped")]
    Stopped,
    /// Any other failure, in the gateway's own words.
    #[error("{0}")]
    Failed(String),
}
