//! Where the agent is in its life, and what it holds there: a device code waiting for
//! approval, a connected session's tunnels and timers, a revocation not yet acknowledged.
//! Below the actor and the modules that drive each phase, so none of them imports another.

use super::tunnel::TunnelHandle;

/// The agent's phase.
pub(super) enum Phase {
    Disabled,
    Pairing(PendingApproval),
    Connected(Session),
}

/// A device code waiting for the Administrator's approval in the cloud.
pub(super) struct PendingApproval {
    pub(super) device_code: String,
    pub(super) interval: u64,
    pub(super) next_poll: u64,
    pub(super) expires_at: u64,
}

/// The state of a connected DMS.
pub(super) struct Session {
    pub(super) tunnels: Vec<TunnelHandle>,
    pub(super) next_keepalive: u64,
    pub(super) next_attempt: u64,
    pub(super) failed_attempts: u32,
    pub(super) next_refresh: u64,
    pub(super) failed_refreshes: u32,
    /// Whether a tunnel was up once: the `agent.no-reconnect` fault never replaces a lost one.
    pub(super) had_tunnel: bool,
}

/// A revocation the cloud has not acknowledged yet.
pub(crate) struct Pending {
    pub(super) token: String,
    pub(super) next_try: u64,
}
