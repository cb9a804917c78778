//! The share users' sessions, kept by the Cloud Gateway per viewer. The DMS hands the gateway
//! each share user's credentials; the password stays here, on the DMS side. When the cloud
//! opens a stream for a viewer (naming the share and an opaque viewer ID, which the gateway
//! trusts on tunnel streams only), the gateway signs that share's user in through the WAF for
//! that viewer, once, and attaches the session to every request of the viewer, overwriting
//! whatever was sent under that name. Neither the cloud nor the browser ever holds a session
//! of the DMS or the password. Ending a share drops its viewers' sessions here (the DMA has
//! ended them on its side already).
//!
//! Every opening of a link is a new viewer at the cloud, so a recipient who keeps reopening it
//! (or a script with their account) brings the gateway new viewers without end. The gateway
//! keeps at most [`SESSIONS_PER_SHARE`] sessions open on the DMA for one share: a new viewer
//! beyond that takes the place of the one idle longest, whose session the gateway ends on the
//! DMA (`LogOut`), so the DMA's session table stays bounded whatever the cloud's side sends.
//! Nobody is refused: a viewer whose session went is signed in again if it comes back. A
//! session with a request in flight is never the one that goes (the request would meet a
//! session the DMA no longer knows): while every other session is in use, the new viewer's
//! comes on top of the bound, and the first to finish its request then makes way.
//!
//! A `LogOut` that does not get through (the DMA unreachable at that moment) is kept here as
//! unended, and the gateway sends it again at every tick of its clock until the DMA answers
//! (`log_outs`): a session the gateway let go of does not live on in the DMA's table.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::world::{Fault, FaultSet};

/// The most sessions the gateway keeps open on the DMA for one share's viewers: enough for the
/// windows a share's recipients have open at once. A project figure (the spec names none);
/// `fixtures/spec.json` states it for the scenarios.
pub(crate) const SESSIONS_PER_SHARE: usize = 8;

/// The bound on one share's sessions, settled once from the faults: `None`
/// (`agent.viewer-sessions-unbounded`) keeps a session for every viewer that ever came.
pub(crate) fn bound_from_faults(faults: &FaultSet) -> Option<usize> {
    (!faults.is_on(Fault::AgentViewerSessionsUnbounded)).then_some(SESSIONS_PER_SHARE)
}

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

/// A session kept for a viewer, when the viewer last used it (a count of uses, not time), and
/// how many of its requests are on their way to the DMA.
#[derive(Debug)]
struct Kept {
    session: String,
    used: u64,
    in_flight: usize,
}

#[derive(Debug, Default)]
struct Desk {
    /// Share ID → its user's credentials.
    logins: HashMap<String, ShareLogin>,
    /// (share ID, viewer ID) → the share user's session opened for that viewer.
    sessions: HashMap<(String, String), Kept>,
    /// Uses so far, the order sessions were last used in.
    uses: u64,
    /// (share ID, session) the gateway let go of whose `LogOut` the DMA has not answered yet.
    unended: Vec<(String, String)>,
}

impl Desk {
    fn tick(&mut self) -> u64 {
        self.uses += 1;
        self.uses
    }

    /// Drops the sessions of `share_id`'s viewers other than `viewer`, idlest first, until at
    /// most `room` are left, sparing those with a request in flight: the sessions to end on
    /// the DMA.
    fn shrink(&mut self, share_id: &str, viewer: &str, room: usize) -> Vec<String> {
        let others: Vec<((String, String), u64, usize)> = self
            .sessions
            .iter()
            .filter(|((share, seen), _)| share == share_id && seen != viewer)
            .map(|(key, kept)| (key.clone(), kept.used, kept.in_flight))
            .collect();
        let over = others.len().saturating_sub(room);
        let mut idle: Vec<_> = others
            .into_iter()
            .filter(|(_, _, in_flight)| *in_flight == 0)
            .collect();
        idle.sort_by_key(|(_, used, _)| *used);
        idle.into_iter()
            .take(over)
            .filter_map(|(key, _, _)| self.sessions.remove(&key))
            .map(|kept| kept.session)
            .collect()
    }
}

/// The gateway's desk of share users and their viewers' sessions.
#[derive(Debug)]
pub(crate) struct Viewers {
    desk: Mutex<Desk>,
    handout: Handout,
    /// The most sessions kept for one share's viewers; `None`: no bound.
    per_share: Option<usize>,
    /// Whether a `LogOut` the DMA did not answer is kept to be sent again; otherwise
    /// (`agent.log-out-once`) it is sent once and forgotten.
    retries_log_outs: bool,
}

impl Viewers {
    pub fn new(handout: Handout, per_share: Option<usize>, retries_log_outs: bool) -> Self {
        Self {
            desk: Mutex::default(),
            handout,
            per_share,
            retries_log_outs,
        }
    }

    /// Keeps `session` of `share_id`, whose `LogOut` did not get through, to be sent again
    /// (when the policy retries).
    pub fn unended(&self, share_id: &str, session: String) {
        if self.retries_log_outs {
            self.lock().unended.push((share_id.to_owned(), session));
        }
    }

    /// The sessions whose `LogOut` is still to be sent, taken from the desk: those that fail
    /// again come back through [`Viewers::unended`].
    pub fn take_unended(&self) -> Vec<(String, String)> {
        std::mem::take(&mut self.lock().unended)
    }

    /// Keeps the credentials the DMS handed for `share_id`.
    pub fn admit(&self, share_id: &str, login: ShareLogin) {
        self.lock().logins.insert(share_id.to_owned(), login);
    }

    /// The credentials of a share the gateway holds.
    pub fn login_of(&self, share_id: &str) -> Option<ShareLogin> {
        self.lock().logins.get(share_id).cloned()
    }

    /// The session already opened for this viewer of this share (or, with the fault, any),
    /// marked as used now and as carrying one more request, until [`Viewers::done`].
    pub fn session(&self, share_id: &str, viewer: &str) -> Option<String> {
        let mut desk = self.lock();
        let now = desk.tick();
        let kept = match self.handout {
            Handout::PerViewer => desk
                .sessions
                .get_mut(&(share_id.to_owned(), viewer.to_owned())),
            Handout::FirstForAll => desk.sessions.values_mut().next(),
        }?;
        kept.used = now;
        kept.in_flight += 1;
        Some(kept.session.clone())
    }

    /// A request of this viewer of this share has had its answer: its session carries one
    /// fewer. Answers the sessions to end on the DMA: those the share holds over its bound
    /// now that one more is idle (a new viewer came while every other was in use).
    pub fn done(&self, share_id: &str, viewer: &str) -> Vec<String> {
        let mut desk = self.lock();
        let key = (share_id.to_owned(), viewer.to_owned());
        if let Some(kept) = desk.sessions.get_mut(&key) {
            kept.in_flight = kept.in_flight.saturating_sub(1);
        }
        match self.per_share {
            Some(bound) => desk.shrink(share_id, "", bound),
            None => Vec::new(),
        }
    }

    /// Before a new viewer of `share_id` is signed in: drops the sessions of the share's
    /// viewers idle longest so that the new one fits the bound; the sessions to end on the DMA.
    pub fn make_room(&self, share_id: &str, viewer: &str) -> Vec<String> {
        match self.per_share {
            Some(bound) => self
                .lock()
                .shrink(share_id, viewer, bound.saturating_sub(1)),
            None => Vec::new(),
        }
    }

    /// Keeps the session opened for this viewer; answers the one to use (a concurrent request
    /// of the same viewer may have opened one first) and the sessions to end on the DMA: the
    /// one opened in vain, and any that concurrent new viewers pushed over the bound.
    pub fn keep(&self, share_id: &str, viewer: &str, session: String) -> (String, Vec<String>) {
        let mut desk = self.lock();
        let now = desk.tick();
        let key = (share_id.to_owned(), viewer.to_owned());
        let mut ended = Vec::new();
        let kept = desk.sessions.entry(key).or_insert_with(|| Kept {
            session: session.clone(),
            used: now,
            in_flight: 0,
        });
        kept.used = now;
        // The request that opened it is on its way with it.
        kept.in_flight += 1;
        let using = kept.session.clone();
        if using != session {
            ended.push(session);
        }
        if let Some(bound) = self.per_share {
            ended.extend(desk.shrink(share_id, viewer, bound.saturating_sub(1)));
        }
        (using, ended)
    }

    /// Forgets a share: its credentials and its viewers' sessions (answered, for the record).
    pub fn withdraw(&self, share_id: &str) -> Vec<String> {
        let mut desk = self.lock();
        desk.logins.remove(share_id);
        // The DMA ended the share's sessions with the share: nothing is left to log out.
        desk.unended.retain(|(share, _)| share != share_id);
        let mut ended = Vec::new();
        desk.sessions.retain(|(share, _), kept| {
            let keep = share != share_id;
            if !keep {
                ended.push(kept.session.clone());
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
        let viewers = Viewers::new(Handout::PerViewer, Some(SESSIONS_PER_SHARE), true);
        viewers.admit("a", login("share-a"));
        viewers.admit("b", login("share-b"));
        assert_eq!(viewers.keep("a", "v1", "session-a".into()).0, "session-a");
        assert_eq!(viewers.session("b", "v2"), None);
        assert_eq!(
            viewers.keep("a", "v1", "again".into()),
            ("session-a".to_owned(), vec!["again".to_owned()])
        );
        assert_eq!(viewers.withdraw("a"), vec!["session-a".to_owned()]);
        assert!(viewers.session("a", "v1").is_none() && viewers.login_of("a").is_none());
        assert!(viewers.login_of("b").is_some());
    }

    #[test]
    fn a_new_viewer_beyond_the_bound_ends_the_session_idle_longest() {
        let viewers = Viewers::new(Handout::PerViewer, Some(2), true);
        // Each request is answered before the next: no session is in use when room is made.
        let kept = |share: &str, viewer: &str, session: &str| {
            let ended = viewers.keep(share, viewer, session.into()).1;
            viewers.done(share, viewer);
            ended
        };
        assert!(viewers.make_room("a", "v1").is_empty());
        kept("a", "v1", "s1");
        kept("a", "v2", "s2");
        kept("b", "w1", "t1");
        // v1 used again: v2 is now the idlest of share a.
        assert_eq!(viewers.session("a", "v1").as_deref(), Some("s1"));
        viewers.done("a", "v1");
        assert_eq!(viewers.make_room("a", "v3"), vec!["s2".to_owned()]);
        assert_eq!(kept("a", "v3", "s3"), Vec::<String>::new());
        // Two new viewers at once: the second to be kept pushes the idlest out.
        assert_eq!(kept("a", "v4", "s4"), vec!["s1".to_owned()]);
        assert_eq!(viewers.session("a", "v2"), None);
        assert_eq!(viewers.session("b", "w1").as_deref(), Some("t1"));
        let unbounded = Viewers::new(Handout::PerViewer, None, true);
        for n in 0..10 {
            assert!(unbounded.make_room("a", &format!("v{n}")).is_empty());
            assert!(
                unbounded
                    .keep("a", &format!("v{n}"), format!("s{n}"))
                    .1
                    .is_empty()
            );
        }
    }

    #[test]
    fn a_session_with_a_request_in_flight_is_never_the_one_that_goes() {
        let viewers = Viewers::new(Handout::PerViewer, Some(2), true);
        // v1's request is still on its way; v2's has had its answer.
        viewers.keep("a", "v1", "s1".into());
        viewers.keep("a", "v2", "s2".into());
        assert!(viewers.done("a", "v2").is_empty());
        // A new viewer: v1 is the idlest, but in use, so v2 goes.
        assert_eq!(viewers.make_room("a", "v3"), vec!["s2".to_owned()]);
        assert!(viewers.keep("a", "v3", "s3".into()).1.is_empty());
        // Another while both others are in use: it comes on top of the bound...
        assert!(viewers.make_room("a", "v4").is_empty());
        assert!(viewers.keep("a", "v4", "s4".into()).1.is_empty());
        // ...and the first to finish its request makes way.
        assert_eq!(viewers.done("a", "v1"), vec!["s1".to_owned()]);
        assert!(viewers.done("a", "v3").is_empty());
    }

    #[test]
    fn a_log_out_that_did_not_get_through_is_kept_until_its_share_ends() {
        let viewers = Viewers::new(Handout::PerViewer, Some(2), true);
        viewers.unended("a", "s1".into());
        viewers.unended("b", "t1".into());
        assert_eq!(
            viewers.take_unended(),
            vec![
                ("a".to_owned(), "s1".to_owned()),
                ("b".to_owned(), "t1".to_owned())
            ]
        );
        assert!(viewers.take_unended().is_empty());
        viewers.unended("a", "s1".into());
        viewers.unended("b", "t1".into());
        viewers.withdraw("a");
        assert_eq!(
            viewers.take_unended(),
            vec![("b".to_owned(), "t1".to_owned())]
        );
        let once = Viewers::new(Handout::PerViewer, Some(2), false);
        once.unended("a", "s1".into());
        assert!(once.take_unended().is_empty());
    }
}
