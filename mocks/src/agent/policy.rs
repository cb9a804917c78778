//! How this agent behaves, as settings chosen once from the fault set when it is built. The
//! rest of the agent is one implementation that reads these settings: a fault is a setting a
//! real gateway could ship with, not a branch at the place a scenario looks.

use std::time::Duration;

use crate::dms::Permission;
use crate::world::{Fault, FaultSet};

/// Tunnels a connected agent keeps open at once, as the real gateway does: streams spread
/// over them, and losing one leaves the others carrying.
const TUNNELS: usize = 2;
/// The gateway's retry interval after a failed connection or refresh; retries back off from
/// it, doubling up to the cap.
const RETRY: Duration = Duration::from_secs(10);
const RETRY_CAP: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub(crate) struct AgentPolicy {
    /// Starts the connect flow at boot instead of waiting for an Administrator.
    pub pair_at_boot: bool,
    /// The DMS permission an enable request needs; `None`: anyone's request is taken.
    pub enable_needs: Option<Permission>,
    /// A disconnect closes the tunnels, revokes and forgets the token; otherwise it only
    /// acknowledges.
    pub disconnect_tears_down: bool,
    /// A revocation the cloud did not acknowledge is sent again until it is; otherwise it is
    /// sent once and forgotten.
    pub retry_revocation: bool,
    /// While a revocation is pending the DMS is told so; otherwise it reads "disabled".
    pub report_pending_revocation: bool,
    /// Refuses `http://` and `ws://` cloud URLs at start.
    pub refuse_plaintext_urls: bool,
    /// Tunnels kept open at once.
    pub tunnels: usize,
    /// Lost tunnels are dialled again.
    pub redial: bool,
    /// A tunnel upgrade the cloud refuses with 401 ends the session (the token is no good: the
    /// cloud ended the connection); otherwise the agent backs off and dials again, still
    /// reporting itself connected (`agent.hides-a-cloud-ended-connection`).
    pub end_on_refused_token: bool,
    pub backoff: Backoff,
    /// A tunnel whose ping goes unanswered is cut.
    pub drop_silent_tunnels: bool,
    /// The token is renewed daily.
    pub renew: bool,
    /// At a renewal, the old tunnels finish their streams (GOAWAY) instead of being cut.
    pub drain_on_handover: bool,
    /// Stream answers are relayed as they come, within HTTP/2 flow control; otherwise each is
    /// read whole from the DMS side first.
    pub stream_answers: bool,
    /// A refresh the cloud could not answer leaves the token in place, to be retried; otherwise
    /// the agent gives the token (and the connection) up.
    pub keep_token_on_refresh_error: bool,
    /// A request the DMS side failed before it answered is sent there once more.
    pub retry_forwarded: bool,
    /// What a tunnel stream is answered with when the DMS side cannot be reached.
    pub unreachable_status: http::StatusCode,
    /// What the agent signs is stamped on the cloud's time, learnt from its answers' `Date`;
    /// otherwise on the DMS's own clock, however far it drifted.
    pub learn_cloud_time: bool,
    /// How share users' sessions are handed to viewers.
    pub viewer_sessions: super::viewers::Handout,
    /// The most sessions kept open on the DMA for one share's viewers; `None`: no bound.
    pub viewer_sessions_per_share: Option<usize>,
    /// Whether a `LogOut` of a viewer's session the DMA did not answer is sent again at every
    /// tick until it does (`agent.log-out-once`: sent once).
    pub retry_log_outs: bool,
    /// A share end the cloud could not be told of is kept and sent when it can be; otherwise
    /// it is dropped, and "not connected" is taken for done.
    pub keep_pending_withdrawals: bool,
    /// The pending withdrawals are kept on the DMS's disk (its credential store), so a gateway
    /// restarted while offline still sends them; otherwise
    /// (`agent.withdrawals-in-memory-only`) in the gateway's memory only.
    pub persist_pending_withdrawals: bool,
}

/// The redial schedule after failed attempts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub first: Duration,
    pub cap: Duration,
    /// The wait doubles after each failure in a row; otherwise it stays at `first`.
    pub doubling: bool,
    /// Each wait is shortened by a share that differs per DMS ("equal jitter").
    pub jitter: bool,
}

impl AgentPolicy {
    pub(crate) fn from_faults(faults: &FaultSet) -> Self {
        let on = |fault| faults.is_on(fault);
        Self {
            pair_at_boot: on(Fault::AgentConnectBeforeOptin),
            enable_needs: (!on(Fault::AgentNonAdminCanEnable))
                .then_some(Permission::ConnectToCloud),
            disconnect_tears_down: !on(Fault::AgentDisconnectKeepsTunnel),
            retry_revocation: !on(Fault::AgentRevokeOnce),
            report_pending_revocation: !on(Fault::AgentHidesPendingRevocation),
            refuse_plaintext_urls: !on(Fault::AgentAllowPlaintextUrls),
            tunnels: if on(Fault::AgentSingleTunnel) {
                1
            } else {
                TUNNELS
            },
            redial: !on(Fault::AgentNoReconnect),
            end_on_refused_token: !on(Fault::AgentHidesACloudEndedConnection),
            backoff: Backoff {
                first: RETRY,
                cap: RETRY_CAP,
                doubling: !on(Fault::AgentReconnectWithoutBackoff),
                jitter: !on(Fault::AgentReconnectWithoutJitter),
            },
            drop_silent_tunnels: !on(Fault::AgentNoDeadPeerDetection),
            renew: !on(Fault::AgentNoAutoRefresh),
            drain_on_handover: !on(Fault::AgentHandoverCutsStreams),
            stream_answers: !on(Fault::AgentNoFlowControl),
            keep_token_on_refresh_error: !on(Fault::AgentDropTokenOnRefreshError),
            retry_forwarded: on(Fault::AgentRetryWrites),
            unreachable_status: if on(Fault::AgentMaskDmsErrors) {
                http::StatusCode::OK
            } else {
                http::StatusCode::BAD_GATEWAY
            },
            learn_cloud_time: !on(Fault::AgentNoSkewAllowance),
            viewer_sessions: super::viewers::Handout::from_faults(faults),
            viewer_sessions_per_share: super::viewers::bound_from_faults(faults),
            retry_log_outs: !on(Fault::AgentLogOutOnce),
            keep_pending_withdrawals: !on(Fault::AgentForgetsOfflineWithdrawals),
            persist_pending_withdrawals: !on(Fault::AgentWithdrawalsInMemoryOnly),
        }
    }
}

impl Backoff {
    /// The wait after the `failures`-th failure in a row, before jitter.
    pub(crate) fn nominal(&self, failures: u32) -> Duration {
        if !self.doubling {
            return self.first;
        }
        let doubled = self.first.as_secs() << failures.saturating_sub(1).min(10);
        Duration::from_secs(doubled.min(self.cap.as_secs()))
    }
}
