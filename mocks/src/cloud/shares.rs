//! Live shares as the cloud keeps them: one record per share a DMS announced, one link per
//! recipient address, the openings of each link and the viewer sessions they started. Links
//! are kept only as SHA-256 digests of their tokens: the store never holds a working link.
//!
//! A small API (create, lookup by token, delete, recipients, record an opening, sessions) that
//! serves the requests from memory; `share_keeping` puts the same metadata in the cloud's
//! encrypted store, the durable copy.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use sha2::{Digest, Sha256};

use crate::world::{Fault, FaultSet, random_token};

/// How link tokens are made and how deleted shares are treated, settled once from the faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SharePolicy {
    /// Tokens from the CSPRNG (256 bits), or (`cloud.guessable-share-token`) derived from the
    /// share's ID and the recipient's position.
    pub random_tokens: bool,
    /// Whether a link of a deleted or expired share still opens the viewer
    /// (`cloud.links-survive-delete`).
    pub links_outlive_share: bool,
    /// Whether a viewer session keeps what it was opened for and never looks at the share again
    /// (`cloud.sessions-survive-delete`).
    pub sessions_outlive_share: bool,
    /// Whether the link opens for any signed-in account (`cloud.any-account-can-view`).
    pub any_account: bool,
    /// Whether the relay leaves the share and viewer headers a browser sent, adding its own
    /// after them (`cloud.relay-keeps-trust-headers`).
    pub keeps_trust_headers: bool,
    /// Whether the relay passes a DMS's answer on with the DMS's own headers and no policy of
    /// the cloud's (`cloud.relay-keeps-dms-headers`).
    pub keeps_dms_headers: bool,
    /// Whether the relay's policy on a DMS's answer sandboxes the page into an opaque origin;
    /// otherwise (`cloud.relay-unsandboxed`) the page runs in the sharing host's origin and
    /// writes its cookies.
    pub sandboxes_dms_pages: bool,
    /// Whether a tab's navigation to a viewer's URL gets the cloud's page framing the DMS's
    /// (`viewer_frame`); otherwise (`cloud.dms-page-served-top-level`) the DMS's page is the
    /// tab's own document, free to navigate the tab anywhere or ask for a password under the
    /// sharing host's name.
    pub frames_dms_pages: bool,
    /// Whether what the relay answers a request with no fetch metadata is an attachment, which
    /// no browser shows as a page; otherwise (`cloud.unlabelled-viewer-answers-render`) a
    /// browser that sends none (an older one) shows the DMS's page as its tab's document,
    /// with no frame, no banner and no sign-in asked.
    pub unlabelled_answers_download: bool,
    /// Whether a top-level navigation to a viewer's URL must carry the sign-in of the account
    /// the viewer was opened for; otherwise (`cloud.viewer-url-needs-no-sign-in`) the URL alone
    /// opens it in any browser.
    pub viewer_navigation_needs_sign_in: bool,
    /// Whether a viewer session ends with the sign-in session that opened it (idle or absolute
    /// expiry, sign-out); otherwise (`cloud.viewer-outlives-its-sign-in`) its URL serves the
    /// page's requests for as long as the share lives.
    pub viewers_end_with_sign_in: bool,
    /// Whether a request under a viewer's URL counts as use of the sign-in that opened it
    /// (`cloud.viewer-requests-keep-the-sign-in`); otherwise only the account's own requests do.
    pub viewer_requests_keep_sign_in: bool,
    /// Whether a share is told apart from another DMS's by its share ID alone
    /// (`cloud.shares-keyed-by-share-id`): its ends, look-ups and stored row. Share IDs are
    /// made by each DMS and seen by every recipient, so only the pair (DMS, share ID) names
    /// one share.
    pub keyed_by_share_id_alone: bool,
    /// Whether the cloud ends a share at its expiry itself; otherwise
    /// (`cloud.expiry-left-to-the-dms`) the expiry only shows in the mail and the end is left
    /// to the DMS's withdrawal, which an offline DMS cannot send.
    pub enforces_expiry: bool,
    /// Whether a DMS's withdrawal finds only its own share; otherwise
    /// (`cloud.delete-any-dms-share`) the first share of that ID, whichever DMS announced it.
    pub delete_checks_owner: bool,
    /// Whether a signed-in account's list holds only the shares sent to it; otherwise
    /// (`cloud.share-list-every-share`) every live share.
    pub list_only_own: bool,
    /// The most viewer sessions one account keeps open on one link: opening it again beyond
    /// them ends the oldest. `None` (`cloud.viewer-sessions-unbounded`): every opening adds one
    /// for the share's life, and reopening a link grows the table without end.
    pub viewer_sessions_per_link: Option<usize>,
}

/// The bound a careful cloud sets on one account's viewer sessions of one link (a project
/// figure; `fixtures/spec.json`, `sharing.viewer_sessions_per_account_and_link`, states it for
/// the scenarios): enough for the windows and devices one recipient has open.
const VIEWER_SESSIONS_PER_LINK: usize = 4;

impl SharePolicy {
    pub fn from_faults(faults: &FaultSet) -> Self {
        Self {
            random_tokens: !faults.is_on(Fault::CloudGuessableShareToken),
            links_outlive_share: faults.is_on(Fault::CloudLinksSurviveDelete),
            sessions_outlive_share: faults.is_on(Fault::CloudSessionsSurviveDelete),
            any_account: faults.is_on(Fault::CloudAnyAccountCanView),
            keeps_trust_headers: faults.is_on(Fault::CloudRelayKeepsTrustHeaders),
            keeps_dms_headers: faults.is_on(Fault::CloudRelayKeepsDmsHeaders),
            sandboxes_dms_pages: !faults.is_on(Fault::CloudRelayUnsandboxed),
            frames_dms_pages: !faults.is_on(Fault::CloudDmsPageServedTopLevel),
            unlabelled_answers_download: !faults.is_on(Fault::CloudUnlabelledViewerAnswersRender),
            viewer_navigation_needs_sign_in: !faults.is_on(Fault::CloudViewerUrlNeedsNoSignIn),
            // A cloud whose sign-out leaves the viewers alive keeps them apart from the sign-in.
            viewers_end_with_sign_in: !faults.is_on(Fault::CloudViewerOutlivesItsSignIn)
                && !faults.is_on(Fault::CloudSignOutKeepsViewers),
            viewer_requests_keep_sign_in: faults.is_on(Fault::CloudViewerRequestsKeepTheSignIn),
            keyed_by_share_id_alone: faults.is_on(Fault::CloudSharesKeyedByShareId),
            enforces_expiry: !faults.is_on(Fault::CloudExpiryLeftToTheDms),
            delete_checks_owner: !faults.is_on(Fault::CloudDeleteAnyDmsShare),
            list_only_own: !faults.is_on(Fault::CloudShareListEveryShare),
            viewer_sessions_per_link: (!faults.is_on(Fault::CloudViewerSessionsUnbounded))
                .then_some(VIEWER_SESSIONS_PER_LINK),
        }
    }

    /// Whether the share `(dms_id, share_id)` is `record`'s.
    pub fn names(&self, record: &ShareRecord, dms_id: &str, share_id: &str) -> bool {
        record.share_id == share_id && (self.keyed_by_share_id_alone || record.dms_id == dms_id)
    }

    /// The key a share's rows are stored under: the pair, written so that no two pairs give
    /// the same text.
    pub fn row_key(&self, dms_id: &str, share_id: &str) -> String {
        if self.keyed_by_share_id_alone {
            share_id.to_owned()
        } else {
            serde_json::json!([dms_id, share_id]).to_string()
        }
    }
}

/// What a DMS announces when one of its users shares a dashboard.
#[derive(Debug, Clone)]
pub(crate) struct Announced {
    pub dms_id: String,
    pub share_id: String,
    pub dashboard: String,
    pub shared_by: String,
    pub emails: Vec<String>,
    pub message: Option<String>,
    pub expires_at: Option<u64>,
}

/// One opening of a link, by the account that opened it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Opening {
    pub email: String,
    pub account: String,
    pub at_unix: u64,
}

/// A share as the cloud's records hold it, without anything that would open it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ShareRecord {
    pub share_id: String,
    pub dms_id: String,
    pub dashboard: String,
    pub shared_by: String,
    pub recipients: Vec<String>,
    pub message: Option<String>,
    pub created_at: u64,
    pub expires_at: Option<u64>,
    pub deleted_at: Option<u64>,
    pub openings: Vec<Opening>,
    /// Viewer sessions still open.
    pub open_sessions: usize,
}

impl ShareRecord {
    /// When the share ended, as `now` sees it: deleted, or past its expiry, whichever came
    /// first.
    pub fn ended_at(&self, now: u64) -> Option<u64> {
        let expired = self.expires_at.filter(|at| now >= *at);
        match (self.deleted_at, expired) {
            (Some(deleted), Some(expired)) => Some(deleted.min(expired)),
            (deleted, expired) => deleted.or(expired),
        }
    }

    /// Whether the share is deleted or past its expiry at `now`.
    pub fn ended(&self, now: u64) -> bool {
        self.ended_at(now).is_some()
    }
}

#[derive(Debug, Clone)]
struct Stored {
    record: ShareRecord,
    /// Token digest → recipient address.
    links: HashMap<[u8; 32], String>,
    /// Whether the share's end was already handed out to be kept: it is kept once.
    end_noted: bool,
}

/// What a link opens: the share and the address it was sent to.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub share: ShareRecord,
    pub email: String,
}

/// A viewer session: one account's open viewer of one share on one DMS.
#[derive(Debug, Clone)]
pub(crate) struct ViewerSession {
    pub dms_id: String,
    pub share_id: String,
    pub account: String,
    /// The sign-in session (of `account`, on the sharing host) that opened it.
    pub sign_in: String,
    /// What the session was opened for, kept only by a cloud whose sessions outlive the share.
    pub snapshot: Link,
    /// Its place in the order sessions were opened: the oldest goes first.
    pub opened: u64,
}

#[derive(Debug, Default)]
struct Tables {
    shares: Vec<Stored>,
    sessions: HashMap<String, ViewerSession>,
    /// The next viewer session's `opened`.
    openings: u64,
}

#[derive(Debug)]
pub(crate) struct Shares {
    tables: Mutex<Tables>,
    policy: SharePolicy,
}

pub(crate) fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Shares {
    pub fn new(policy: SharePolicy) -> Self {
        Self {
            tables: Mutex::default(),
            policy,
        }
    }

    pub fn policy(&self) -> SharePolicy {
        self.policy
    }

    /// Records an announced share and makes one link token per address; answers the tokens,
    /// which the caller mails and forgets. A second announcement of a share ID the DMS already
    /// announced is refused (`None`).
    pub fn create(&self, share: Announced, now: u64) -> Option<Vec<(String, String)>> {
        let mut tables = self.lock();
        if tables
            .shares
            .iter()
            .any(|s| s.record.dms_id == share.dms_id && s.record.share_id == share.share_id)
        {
            return None;
        }
        let tokens: Vec<(String, String)> = share
            .emails
            .iter()
            .enumerate()
            .map(|(i, email)| {
                let token = if self.policy.random_tokens {
                    random_token(32)
                } else {
                    format!("{}-{i}", share.share_id)
                };
                (email.clone(), token)
            })
            .collect();
        tables.shares.push(Stored {
            record: ShareRecord {
                share_id: share.share_id,
                dms_id: share.dms_id,
                dashboard: share.dashboard,
                shared_by: share.shared_by,
                recipients: share.emails,
                message: share.message,
                created_at: now,
                expires_at: share.expires_at.filter(|_| self.policy.enforces_expiry),
                deleted_at: None,
                openings: Vec::new(),
                open_sessions: 0,
            },
            links: tokens.iter().map(|(e, t)| (digest(t), e.clone())).collect(),
            end_noted: false,
        });
        Some(tokens)
    }

    /// Whether the DMS `dms_id` announced a share `share_id` already.
    pub fn exists(&self, dms_id: &str, share_id: &str) -> bool {
        self.lock()
            .shares
            .iter()
            .any(|s| s.record.dms_id == dms_id && s.record.share_id == share_id)
    }

    /// The share and address behind a link token, whatever the share's state.
    pub fn lookup(&self, token: &str) -> Option<Link> {
        let wanted = digest(token);
        let tables = self.lock();
        tables.shares.iter().find_map(|s| {
            s.links.get(&wanted).map(|email| Link {
                share: with_sessions(&tables, s, self.policy),
                email: email.clone(),
            })
        })
    }

    /// Marks the share deleted and ends its viewer sessions (unless sessions outlive it);
    /// answers the share as it now stands, or `None` if the DMS has no such share.
    pub fn delete(&self, dms_id: &str, share_id: &str, now: u64) -> Option<ShareRecord> {
        let mut tables = self.lock();
        let owner_checked = self.policy.delete_checks_owner;
        let stored = tables.shares.iter_mut().find(|s| {
            s.record.share_id == share_id && (!owner_checked || s.record.dms_id == dms_id)
        })?;
        stored.record.deleted_at.get_or_insert(now);
        stored.end_noted = true;
        let record = stored.record.clone();
        if !self.policy.sessions_outlive_share {
            let policy = self.policy;
            tables
                .sessions
                .retain(|_, v| !policy.names(&record, &v.dms_id, &v.share_id));
        }
        Some(record)
    }

    /// Ends the viewer sessions of every share that has ended by `now` (expiry), unless
    /// sessions outlive it; answers the shares whose end nobody was handed before, each once.
    pub fn sweep(&self, now: u64) -> Vec<ShareRecord> {
        let mut tables = self.lock();
        let mut ended = Vec::new();
        let mut newly = Vec::new();
        for stored in tables.shares.iter_mut().filter(|s| s.record.ended(now)) {
            ended.push(stored.record.clone());
            if !std::mem::replace(&mut stored.end_noted, true) {
                newly.push(stored.record.clone());
            }
        }
        if !self.policy.sessions_outlive_share {
            let policy = self.policy;
            tables.sessions.retain(|_, v| {
                !ended
                    .iter()
                    .any(|record| policy.names(record, &v.dms_id, &v.share_id))
            });
        }
        newly
    }

    pub fn recipients(&self, dms_id: &str, share_id: &str) -> Vec<String> {
        self.lock()
            .shares
            .iter()
            .find(|s| self.policy.names(&s.record, dms_id, share_id))
            .map(|s| s.record.recipients.clone())
            .unwrap_or_default()
    }

    /// Notes that `account` opened the link sent to `email`, and opens a viewer session for it.
    pub fn record_opening(&self, link: &Link, account: &str, sign_in: &str, now: u64) -> String {
        let mut tables = self.lock();
        let policy = self.policy;
        if let Some(stored) = tables
            .shares
            .iter_mut()
            .find(|s| policy.names(&s.record, &link.share.dms_id, &link.share.share_id))
        {
            stored.record.openings.push(Opening {
                email: link.email.clone(),
                account: account.to_owned(),
                at_unix: now,
            });
        }
        let session = random_token(32);
        tables.openings += 1;
        let opened = tables.openings;
        tables.sessions.insert(
            session.clone(),
            ViewerSession {
                dms_id: link.share.dms_id.clone(),
                share_id: link.share.share_id.clone(),
                account: account.to_owned(),
                sign_in: sign_in.to_owned(),
                snapshot: link.clone(),
                opened,
            },
        );
        if let Some(bound) = policy.viewer_sessions_per_link {
            end_oldest(&mut tables.sessions, link, account, bound);
        }
        session
    }

    /// The shares become `rebuilt` (from the store), each with its links by digest and
    /// whether its end was kept; a viewer session lasts only if its share is among them.
    pub fn replace_all(&self, rebuilt: Vec<(ShareRecord, HashMap<[u8; 32], String>, bool)>) {
        let mut tables = self.lock();
        tables.shares = rebuilt
            .into_iter()
            .map(|(record, links, end_noted)| Stored {
                record,
                links,
                end_noted,
            })
            .collect();
        let Tables {
            shares, sessions, ..
        } = &mut *tables;
        let policy = self.policy;
        sessions.retain(|_, v| {
            shares
                .iter()
                .any(|s| policy.names(&s.record, &v.dms_id, &v.share_id))
        });
    }

    pub fn session(&self, id: &str) -> Option<ViewerSession> {
        self.lock().sessions.get(id).cloned()
    }

    /// Every share the cloud holds, as its records show it.
    pub fn all(&self) -> Vec<ShareRecord> {
        let tables = self.lock();
        tables
            .shares
            .iter()
            .map(|s| with_sessions(&tables, s, self.policy))
            .collect()
    }

    /// Ends every viewer session `account` opened: it signed out, and a viewer outliving its
    /// sign-in would be a session the person believes ended.
    pub fn end_sessions_of(&self, account: &str) {
        self.lock()
            .sessions
            .retain(|_, v| !v.account.eq_ignore_ascii_case(account));
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Ends `account`'s oldest viewer sessions of `link` until at most `bound` are open.
fn end_oldest(
    sessions: &mut HashMap<String, ViewerSession>,
    link: &Link,
    account: &str,
    bound: usize,
) {
    let mut theirs: Vec<(u64, String)> = sessions
        .iter()
        .filter(|(_, v)| {
            v.dms_id == link.share.dms_id
                && v.share_id == link.share.share_id
                && v.account.eq_ignore_ascii_case(account)
                && v.snapshot.email.eq_ignore_ascii_case(&link.email)
        })
        .map(|(id, v)| (v.opened, id.clone()))
        .collect();
    theirs.sort_unstable();
    let excess = theirs.len().saturating_sub(bound);
    for (_, id) in theirs.into_iter().take(excess) {
        sessions.remove(&id);
    }
}

fn with_sessions(tables: &Tables, stored: &Stored, policy: SharePolicy) -> ShareRecord {
    let mut record = stored.record.clone();
    record.open_sessions = tables
        .sessions
        .values()
        .filter(|v| policy.names(&stored.record, &v.dms_id, &v.share_id))
        .count();
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announced(emails: &[&str]) -> Announced {
        Announced {
            dms_id: "dms-1".into(),
            share_id: "share-1".into(),
            dashboard: "core-network".into(),
            shared_by: "admin".into(),
            emails: emails.iter().map(|e| (*e).to_owned()).collect(),
            message: None,
            expires_at: Some(2_000),
        }
    }

    #[test]
    fn each_address_gets_its_own_token_and_the_store_keeps_only_digests() {
        let shares = Shares::new(SharePolicy::from_faults(&FaultSet::default()));
        let tokens = shares
            .create(announced(&["a@x.example", "b@x.example"]), 1_000)
            .expect("a new share");
        assert_eq!(tokens.len(), 2);
        assert_ne!(tokens[0].1, tokens[1].1);
        assert!(tokens.iter().all(|(_, t)| t.len() == 64));
        let link = shares.lookup(&tokens[1].1).expect("the link opens");
        assert_eq!(link.email, "b@x.example");
        assert!(shares.lookup("not-a-token").is_none());
        let stored = format!("{:?}", shares.lock().shares);
        assert!(!tokens.iter().any(|(_, t)| stored.contains(t.as_str())));
        assert!(shares.create(announced(&["c@x.example"]), 1_000).is_none());
    }

    #[test]
    fn deleting_or_expiring_ends_the_share_and_its_viewer_sessions() {
        let shares = Shares::new(SharePolicy::from_faults(&FaultSet::default()));
        let tokens = shares
            .create(announced(&["a@x.example"]), 1_000)
            .expect("a new share");
        let link = shares.lookup(&tokens[0].1).expect("the link opens");
        assert!(!link.share.ended(1_999) && link.share.ended(2_000));
        let session = shares.record_opening(&link, "a@x.example", "sign-in", 1_500);
        assert!(shares.sweep(1_999).is_empty());
        assert!(shares.session(&session).is_some());
        let ended = shares.sweep(2_000);
        assert_eq!(ended.len(), 1, "its end is handed out once");
        assert_eq!(ended[0].ended_at(2_000), Some(2_000));
        assert!(shares.sweep(2_001).is_empty());
        assert!(shares.session(&session).is_none());
        let again = shares.record_opening(&link, "a@x.example", "sign-in", 1_500);
        let deleted = shares.delete("dms-1", "share-1", 1_600).expect("its share");
        assert_eq!(deleted.ended_at(1_700), Some(1_600));
        assert!(shares.session(&again).is_none());
        assert!(shares.delete("dms-2", "share-1", 1_600).is_none());
        assert_eq!(shares.all()[0].deleted_at, Some(1_600));
    }

    #[test]
    fn another_dms_announcing_the_same_share_id_ends_only_its_own() {
        let shares = Shares::new(SharePolicy::from_faults(&FaultSet::default()));
        let victim = shares
            .create(announced(&["a@x.example"]), 1_000)
            .expect("the victim's share");
        let link = shares.lookup(&victim[0].1).expect("the link opens");
        let session = shares.record_opening(&link, "a@x.example", "sign-in", 1_100);
        let mut copy = announced(&["b@y.example"]);
        copy.dms_id = "dms-attacker".into();
        copy.expires_at = Some(1_200);
        assert!(
            shares.create(copy, 1_100).is_some(),
            "its own share, its own key"
        );
        assert!(shares.delete("dms-attacker", "share-1", 1_150).is_some());
        assert!(shares.sweep(1_300).is_empty(), "the deletion was its end");
        assert!(shares.session(&session).is_some());
        assert_eq!(shares.recipients("dms-1", "share-1"), ["a@x.example"]);
        let record = shares.lookup(&victim[0].1).expect("the link still opens");
        assert!(!record.share.ended(1_300) && record.share.open_sessions == 1);
    }

    #[test]
    fn reopening_a_link_keeps_the_newest_sessions_up_to_the_bound() {
        let shares = Shares::new(SharePolicy::from_faults(&FaultSet::default()));
        let tokens = shares
            .create(announced(&["a@x.example"]), 1_000)
            .expect("a new share");
        let link = shares.lookup(&tokens[0].1).expect("the link opens");
        let opened: Vec<String> = (0..VIEWER_SESSIONS_PER_LINK + 2)
            .map(|_| shares.record_opening(&link, "a@x.example", "sign-in", 1_000))
            .collect();
        let kept: Vec<bool> = opened.iter().map(|s| shares.session(s).is_some()).collect();
        let mut expected = vec![false, false];
        expected.extend([true; VIEWER_SESSIONS_PER_LINK]);
        assert_eq!(kept, expected);
        assert_eq!(shares.all()[0].open_sessions, VIEWER_SESSIONS_PER_LINK);
    }
}
