//! What the DMS hands its Cloud Gateway when a dashboard is shared: below the DMA and the
//! gateway both, as it crosses the control channel when the gateway runs as its own process.

/// What the DMS hands its gateway when a dashboard is shared.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct ShareNotice {
    pub share_id: String,
    pub dashboard: String,
    pub shared_by: String,
    pub emails: Vec<String>,
    pub message: Option<String>,
    pub expires_at: Option<u64>,
    /// The share user's login and password: used on the DMS side only.
    pub login: String,
    pub password: String,
}

impl std::fmt::Debug for ShareNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareNotice")
            .field("share_id", &self.share_id)
            .field("dashboard", &self.dashboard)
            .field("emails", &self.emails)
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// What became of a withdrawal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Withdrawal {
    /// The cloud took it: the links and viewers have ended.
    Sent,
    /// The cloud could not be told; the gateway keeps it and sends it when it can. The reason
    /// is for the user.
    Pending(String),
}
