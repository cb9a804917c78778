//! The share users' sessions, kept by the Cloud Gateway per viewer. The DMS hands the gateway
//! each share user's credentials; the password stays here, on the DMS side. When the cloud
//! opens a stream for a viewer (naming the share and an opaque viewer ID, which the gateway
//! trusts on tunnel streams only), the gateway signs that share's user in through the WAF for
//! that viewer, once, and attaches the session to every request of the viewer, overwriting
//! whatever was sent under that name. Neither the cloud nor the browser ever holds a session
//! of the DMS or the password. Ending a share drops its viewers' sessions here (the DMA has
//! ended them on its side already).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::world::{Fault, FaultSet};

/// How sessions are handed out, settled once from the faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Handout {
    /// One session per (share, viewer): a viewer acts as its own share's user only.
    PerViewer,
    /// `agent.shares-one-session`: the first session opened goes to every viewer after it.
    FirstForAll,
}

impl Handout {
    pub fn from_faults(faults: &FaultSet) -> Self {
        if faults.is_on(Fault::AgentSharesOneSession) {
            Handout::FirstForAll
        } else {
            Handout::PerViewer
        }
    }
}

/// A share user's credentials, as the DMS handed them; never printed.
#[derive(Clone)]
pub(crate) struct ShareLogin {
    pub login: String,
    pub password: String,
}

impl std::fmt::Debug for ShareLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareLogin")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Desk {
    /// Share ID → its user's credentials.
    logins: HashMap<String, ShareLogin>,
    /// (share ID, viewer ID) → the share user's session opened for that viewer.
    sessions: HashMap<(String, String), String>,
}

/// The gateway's desk of share users and their viewers' sessions.
#[derive(Debug)]
pub(crate) struct Viewers {
    desk: Mutex<Desk>,
    handout: Handout,
}

impl Viewers {
    pub fn new(handout: Handout) -> Self {
        Self {
            desk: Mutex::default(),
            handout,
        }
    }

    /// Keeps the credentials the DMS handed for `share_id`.
    pub fn admit(&self, share_id: &str, login: ShareLogin) {
        self.lock().logins.insert(share_id.to_owned(), login);
    }

    /// The credentials of a share the gateway holds.
    pub fn login_of(&self, share_id: &str) -> Option<ShareLogin> {
        self.lock().logins.get(share_id).cloned()
    }

    /// The session already opened for this viewer of this share (or, with the fault, any).
    pub fn session(&self, share_id: &str, viewer: &str) -> Option<String> {
        let desk = self.lock();
        match self.handout {
            Handout::PerViewer => desk
                .sessions
                .get(&(share_id.to_owned(), viewer.to_owned()))
                .cloned(),
            Handout::FirstForAll => desk.sessions.values().next().cloned(),
        }
    }

    /// Keeps the session opened for this viewer; answers the one to use (a concurrent request
    /// of the same viewer may have opened one first).
    pub fn keep(&self, share_id: &str, viewer: &str, session: String) -> String {
        self.lock()
            .sessions
            .entry((share_id.to_owned(), viewer.to_owned()))
            .or_insert(session)
            .clone()
    }

    /// Forgets a share: its credentials and its viewers' sessions (answered, for the record).
    pub fn withdraw(&self, share_id: &str) -> Vec<String> {
        let mut desk = self.lock();
        desk.logins.remove(share_id);
        let mut ended = Vec::new();
        desk.sessions.retain(|(share, _), session| {
            let keep = share != share_id;
            if !keep {
                ended.push(session.clone());
            }
            keep
        });
        ended
    }

    fn lock(&self) -> MutexGuard<'_, Desk> {
        self.desk.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(name: &str) -> ShareLogin {
        ShareLogin {
            login: name.into(),
            password: "p".into(),
        }
    }

    #[test]
    fn each_viewer_gets_its_own_shares_session_and_withdrawal_drops_them() {
        let viewers = Viewers::new(Handout::PerViewer);
        viewers.admit("a", login("share-a"));
        viewers.admit("b", login("share-b"));
        assert_eq!(viewers.keep("a", "v1", "session-a".into()), "session-a");
        assert_eq!(viewers.session("b", "v2"), None);
        assert_eq!(viewers.keep("a", "v1", "again".into()), "session-a");
        assert_eq!(viewers.withdraw("a"), vec!["session-a".to_owned()]);
        assert!(viewers.session("a", "v1").is_none() && viewers.login_of("a").is_none());
        assert!(viewers.login_of("b").is_some());
    }
}
