//! The cloud's account sessions (the `__Host-dms_session` cookie a sign-in sets): each ends after an
//! idle and an absolute lifetime, expired ones are purged by maintenance, and one account holds
//! a bounded number at once (the least recently used goes first), so signing in again and
//! again cannot grow the table (DOS-1). A sign-out ends its session on the cloud. The spec
//! names no figures: these are the project's (`fixtures/spec.json`, `account_sessions`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::roles::OrgRole;
use crate::world::{Clock, Fault, FaultSet, random_token};

/// How long a session lives without use.
const IDLE: Duration = Duration::from_secs(3 * 24 * 3600);
/// How long a session lives at most, used or not.
const ABSOLUTE: Duration = Duration::from_secs(30 * 24 * 3600);
/// Sessions one account holds at once.
const PER_ACCOUNT: usize = 32;

/// How sessions end, as a deployment configured it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionPolicy {
    idle: Option<Duration>,
    absolute: Option<Duration>,
    per_account: Option<usize>,
    /// A sign-out ends the session on the cloud (else it only clears the browser's cookie).
    end_on_sign_out: bool,
}

impl SessionPolicy {
    pub fn from_faults(faults: &FaultSet) -> Self {
        let never = faults.is_on(Fault::CloudSessionsNeverExpire);
        Self {
            idle: (!never).then_some(IDLE),
            absolute: (!never).then_some(ABSOLUTE),
            per_account: (!faults.is_on(Fault::CloudSessionsPerAccountUnbounded))
                .then_some(PER_ACCOUNT),
            end_on_sign_out: !faults.is_on(Fault::CloudSignOutKeepsSession),
        }
    }

    /// Sessions that never end and are never bounded: what a cloud without a clock keeps.
    fn unbounded() -> Self {
        Self {
            idle: None,
            absolute: None,
            per_account: None,
            end_on_sign_out: true,
        }
    }
}

#[derive(Debug, Clone)]
struct Session {
    email: String,
    role: OrgRole,
    opened: u64,
    used: u64,
    /// The order of use, to tell apart sessions used in the same second.
    order: u64,
}

/// Session → who it is and when it was opened and last used.
#[derive(Debug)]
pub(crate) struct Sessions {
    book: Mutex<HashMap<String, Session>>,
    policy: SessionPolicy,
    clock: Option<Clock>,
    uses: std::sync::atomic::AtomicU64,
}

impl Sessions {
    /// Sessions without lifetimes, for a cloud built without a clock (unit tests).
    pub fn unbounded() -> Self {
        Self {
            book: Mutex::new(HashMap::new()),
            policy: SessionPolicy::unbounded(),
            clock: None,
            uses: Default::default(),
        }
    }

    pub fn new(policy: SessionPolicy, clock: Clock) -> Self {
        Self {
            book: Mutex::new(HashMap::new()),
            policy,
            clock: Some(clock),
            uses: Default::default(),
        }
    }

    fn now(&self) -> u64 {
        self.clock.as_ref().map_or(0, Clock::unix_seconds)
    }

    fn next_use(&self) -> u64 {
        self.uses.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn expired(&self, session: &Session, now: u64) -> bool {
        let past = |since: u64, lifetime: Option<Duration>| {
            lifetime.is_some_and(|l| now >= since.saturating_add(l.as_secs()))
        };
        past(session.used, self.policy.idle) || past(session.opened, self.policy.absolute)
    }

    /// A new session for `email`; the account's least recently used ones end beyond the bound.
    pub fn open(&self, email: &str, role: OrgRole) -> String {
        let now = self.now();
        let token = random_token(32);
        let mut book = self.lock();
        if let Some(bound) = self.policy.per_account {
            let mut own: Vec<(u64, u64, String)> = book
                .iter()
                .filter(|(_, s)| s.email == email)
                .map(|(t, s)| (s.used, s.order, t.clone()))
                .collect();
            own.sort();
            let over = (own.len() + 1).saturating_sub(bound);
            for (_, _, oldest) in own.into_iter().take(over) {
                book.remove(&oldest);
            }
        }
        book.insert(
            token.clone(),
            Session {
                email: email.to_owned(),
                role,
                opened: now,
                used: now,
                order: self.next_use(),
            },
        );
        token
    }

    /// Who `token` signs in, if it is a live session; using it restarts its idle time.
    pub fn lookup(&self, token: &str) -> Option<(String, OrgRole)> {
        let now = self.now();
        let mut book = self.lock();
        let session = book.get_mut(token)?;
        if self.expired(session, now) {
            book.remove(token);
            return None;
        }
        session.used = now;
        session.order = self.next_use();
        Some((session.email.clone(), session.role))
    }

    /// Whether `token` is a live session, without counting this as its use: for what another
    /// party may send on the session's behalf (a viewer's page), which must not keep it alive.
    pub fn is_live(&self, token: &str) -> bool {
        let now = self.now();
        let mut book = self.lock();
        match book.get(token) {
            Some(session) if self.expired(session, now) => {
                book.remove(token);
                false
            }
            Some(_) => true,
            None => false,
        }
    }

    /// Ends `token`'s session (a sign-out); whether it was live.
    pub fn end(&self, token: &str) -> bool {
        if !self.policy.end_on_sign_out {
            return self.lookup(token).is_some();
        }
        self.lock().remove(token).is_some()
    }

    /// Removes every expired session.
    pub fn maintain(&self) {
        let now = self.now();
        self.lock().retain(|_, s| !self.expired(s, now));
    }

    pub fn count(&self) -> usize {
        self.lock().len()
    }

    /// Keeps only the sessions of accounts `exists` still knows (after the accounts were
    /// rebuilt from the store).
    pub fn retain_accounts(&self, exists: impl Fn(&str) -> bool) {
        self.lock().retain(|_, s| exists(&s.email));
    }
}
