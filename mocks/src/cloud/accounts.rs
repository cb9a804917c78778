use std::sync::Mutex;

use http::{HeaderMap, header};
use sha2::{Digest, Sha256};

use super::roles::{OrgRole, RoleSource};
use super::sessions::Sessions;
use super::store::AccountRecord;
use crate::world::FailureWindow;

/// A dataminer.services account: a person with an email address in an organisation.
#[derive(Debug, Clone)]
pub struct Account {
    pub email: String,
    pub password: String,
    pub organization: String,
    /// The account's role in its organisation.
    pub role: OrgRole,
}

#[derive(Debug)]
struct StoredAccount {
    email: String,
    password_sha256: [u8; 32],
    organization: String,
    role: OrgRole,
}

/// Accounts and their browser sessions. Passwords are kept only as digests; accounts made by
/// sign-up join them once their address is proven.
#[derive(Debug)]
pub(crate) struct Accounts {
    accounts: Mutex<Vec<StoredAccount>>,
    /// Session → the account's address and its role when the session was opened.
    sessions: Sessions,
    roles: RoleSource,
    /// The session cookie's name: `__Host-` binds it to the host that set it, so a page on
    /// another dataminer.services host (a DMS's dashboard, relayed on the sharing host) can
    /// neither set one for the connection host nor shadow it with a narrower path.
    pub(super) cookie_name: &'static str,
    /// Failed sign-ins per address (whether or not an account has it, so that the answers
    /// tell no one which addresses have accounts); `None`: guessing is not bounded.
    guessing: Option<Guessing>,
    /// Whether a browser's sign-in is taken only from the host's own pages.
    pub(super) own_pages_only: bool,
    /// Whether signing out ends the viewer sessions the account opened too.
    pub(super) sign_out_ends_viewers: bool,
}

/// Failed sign-ins counted per address and source, and per address over every source.
#[derive(Debug)]
struct Guessing {
    per_source: FailureWindow,
    overall: FailureWindow,
}

/// Why a sign-in gave no session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignInRefused {
    Wrong,
    /// The address has had its failures for now: told to wait this many seconds.
    TooMany {
        retry_after: u64,
    },
}

/// Who a browser session belongs to.
#[derive(Debug, Clone)]
pub(crate) struct SignedIn {
    pub email: String,
    pub organization: String,
    pub role: OrgRole,
}

/// How many wrong passwords one address may be given in a window before its sign-ins are
/// refused until the window has passed, right password or not: the project's figure
/// (`fixtures/spec.json`, `cloud_sign_in`), as the spec names none.
const SIGN_IN_FAILURES_ALLOWED: usize = 10;
/// The same over every source together: a guesser spread over many addresses is stopped too,
/// while one source's failures alone lock no one out of signing in from elsewhere.
const SIGN_IN_FAILURES_ALLOWED_OVERALL: usize = 50;
const SIGN_IN_WINDOW_SECONDS: u64 = 15 * 60;

/// The name of the session cookie the login sets.
const SESSION_COOKIE: &str = "__Host-dms_session";
/// The same without its prefix, which a browser lets any sibling host set for the domain.
const UNPREFIXED_COOKIE: &str = "dms_session";

impl Accounts {
    pub fn new(accounts: Vec<Account>, roles: RoleSource) -> Self {
        Self {
            accounts: Mutex::new(accounts.into_iter().map(stored).collect()),
            sessions: Sessions::unbounded(),
            roles,
            cookie_name: SESSION_COOKIE,
            guessing: Some(Guessing {
                per_source: FailureWindow::new(SIGN_IN_FAILURES_ALLOWED, SIGN_IN_WINDOW_SECONDS),
                overall: FailureWindow::new(
                    SIGN_IN_FAILURES_ALLOWED_OVERALL,
                    SIGN_IN_WINDOW_SECONDS,
                ),
            }),
            own_pages_only: true,
            sign_out_ends_viewers: true,
        }
    }

    /// Leaves the viewer sessions an account opened open when it signs out (a fault).
    pub fn sign_out_keeps_viewers(mut self, keeps: bool) -> Self {
        self.sign_out_ends_viewers = !keeps;
        self
    }

    /// Takes a browser's sign-in from any site's pages (a fault).
    pub fn sign_in_from_any_site(mut self, any: bool) -> Self {
        self.own_pages_only = !any;
        self
    }

    /// Leaves password guessing unbounded (a fault).
    pub fn guessing_unbounded(mut self, unbounded: bool) -> Self {
        if unbounded {
            self.guessing = None;
        }
        self
    }

    /// Names the session cookie without its `__Host-` prefix (a fault).
    pub fn without_host_prefix(mut self, unprefixed: bool) -> Self {
        if unprefixed {
            self.cookie_name = UNPREFIXED_COOKIE;
        }
        self
    }

    /// The `Set-Cookie` value of a new browser session.
    pub fn session_cookie(&self, session: &str) -> String {
        format!(
            "{}={session}; Secure; HttpOnly; SameSite=Strict; Path=/",
            self.cookie_name
        )
    }

    /// These accounts, with sessions kept as `sessions` says.
    pub fn with_sessions(self, sessions: Sessions) -> Self {
        Self { sessions, ..self }
    }

    /// Ends the session the request's cookie names, if live (a sign-out).
    pub fn sign_out(&self, headers: &HeaderMap) -> bool {
        self.session_of(headers)
            .is_some_and(|session| self.sessions.end(&session))
    }

    /// The sign-in session the request's cookie names, if it is live.
    pub fn live_session(&self, headers: &HeaderMap) -> Option<String> {
        let session = self.session_of(headers)?;
        self.sessions.lookup(&session).map(|_| session)
    }

    /// Whether the sign-in session `token` is live. Only the account's own requests (those
    /// with its cookie) restart its idle time, unless `touches` (the
    /// `cloud.viewer-requests-keep-the-sign-in` fault).
    pub fn session_live(&self, token: &str, touches: bool) -> bool {
        if touches {
            self.sessions.lookup(token).is_some()
        } else {
            self.sessions.is_live(token)
        }
    }

    /// The session the request's cookie names: only the cookie of the session's own name.
    fn session_of(&self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.cookie_name)
            .map(|(_, value)| value.to_owned())
    }

    /// Removes expired sessions.
    pub fn maintain(&self) {
        self.sessions.maintain();
    }

    /// Gives the account of `email` `role`; false when there is no such account.
    pub fn set_role(&self, email: &str, role: OrgRole) -> bool {
        let email = email.to_ascii_lowercase();
        let mut accounts = self.lock_accounts();
        match accounts.iter_mut().find(|a| a.email == email) {
            Some(account) => {
                account.role = role;
                true
            }
            None => false,
        }
    }

    /// How many accounts of `organization` hold `role`.
    pub fn count_in_role(&self, organization: &str, role: OrgRole) -> usize {
        self.lock_accounts()
            .iter()
            .filter(|a| a.organization == organization && a.role == role)
            .count()
    }

    /// The organisation and role of the account of `email`.
    pub fn membership(&self, email: &str) -> Option<(String, OrgRole)> {
        let email = email.to_ascii_lowercase();
        self.lock_accounts()
            .iter()
            .find(|a| a.email == email)
            .map(|a| (a.organization.clone(), a.role))
    }

    /// What the store keeps of each account: its address, organisation, password digest and role.
    pub fn records(&self) -> Vec<AccountRecord> {
        self.lock_accounts().iter().map(record_of).collect()
    }

    /// What the store keeps of the account of `email`, if there is one.
    pub fn record(&self, email: &str) -> Option<AccountRecord> {
        let email = email.to_ascii_lowercase();
        self.lock_accounts()
            .iter()
            .find(|a| a.email == email)
            .map(record_of)
    }

    /// A session for the right password of `email`, tried from `source` (the connection's
    /// address) at `now`.
    pub(super) fn login(
        &self,
        email: &str,
        password: &str,
        source: &str,
        now: u64,
    ) -> Result<String, SignInRefused> {
        let digest: [u8; 32] = Sha256::digest(password.as_bytes()).into();
        let email = email.to_ascii_lowercase();
        let from_here = format!("{email} from {source}");
        if let Some(retry_after) = self.guessing.as_ref().and_then(|g| {
            g.per_source
                .wait(&from_here, now)
                .or_else(|| g.overall.wait(&email, now))
        }) {
            return Err(SignInRefused::TooMany { retry_after });
        }
        let role = self
            .lock_accounts()
            .iter()
            .find(|a| a.email == email && a.password_sha256 == digest)
            .map(|a| a.role);
        let Some(role) = role else {
            if let Some(guessing) = &self.guessing {
                guessing.per_source.failed(&from_here, now);
                guessing.overall.failed(&email, now);
            }
            return Err(SignInRefused::Wrong);
        };
        Ok(self.open_session(&email, role))
    }

    fn open_session(&self, email: &str, role: OrgRole) -> String {
        self.sessions.open(email, role)
    }

    pub fn exists(&self, email: &str) -> bool {
        let email = email.to_ascii_lowercase();
        self.lock_accounts().iter().any(|a| a.email == email)
    }

    /// Adds the account of a proven address (no organisation: a recipient's own account) and
    /// signs it in; `None` when the address already has an account.
    pub fn create(&self, email: &str, password: &str) -> Option<String> {
        let email = email.to_ascii_lowercase();
        {
            let mut accounts = self.lock_accounts();
            if accounts.iter().any(|a| a.email == email) {
                return None;
            }
            accounts.push(stored(Account {
                email: email.clone(),
                password: password.to_owned(),
                organization: String::new(),
                role: OrgRole::Member,
            }));
        }
        Some(self.open_session(&email, OrgRole::Member))
    }

    /// The accounts become those `records` hold (rebuilt from the store): an account kept in
    /// both keeps its role, one only the store has joins as a Member (the store keeps no
    /// role), one the store lacks is gone with its sessions.
    pub fn replace_all(&self, records: &[AccountRecord]) {
        let mut accounts = self.lock_accounts();
        let mut rebuilt = Vec::new();
        for record in records {
            let Some(password_sha256) = from_hex(&record.password_sha256) else {
                continue;
            };
            // A role the store does not name grants nothing beyond membership.
            let role = record.role.parse().unwrap_or(OrgRole::Member);
            rebuilt.push(StoredAccount {
                email: record.email.clone(),
                password_sha256,
                organization: record.organization.clone(),
                role,
            });
        }
        *accounts = rebuilt;
        self.sessions
            .retain_accounts(|email| accounts.iter().any(|a| a.email == email));
    }

    fn lock_accounts(&self) -> std::sync::MutexGuard<'_, Vec<StoredAccount>> {
        self.accounts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many browser sessions are open.
    pub fn session_count(&self) -> usize {
        self.sessions.count()
    }

    /// The account behind the request's session cookie, if it carries a live one.
    pub fn signed_in(&self, headers: &HeaderMap) -> Option<SignedIn> {
        let session = self.session_of(headers)?;
        let (email, role_at_sign_in) = self.sessions.lookup(&session)?;
        let (organization, current) = self.membership(&email)?;
        let role = match self.roles {
            RoleSource::Current => current,
            RoleSource::AtSignIn => role_at_sign_in,
        };
        Some(SignedIn {
            email,
            organization,
            role,
        })
    }
}

fn record_of(account: &StoredAccount) -> AccountRecord {
    AccountRecord {
        email: account.email.clone(),
        organization: account.organization.clone(),
        password_sha256: account
            .password_sha256
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        role: account.role.name().to_owned(),
    }
}

/// A SHA-256 digest from its lowercase hex.
pub(super) fn from_hex(text: &str) -> Option<[u8; 32]> {
    let mut digest = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(digest)
}

fn stored(account: Account) -> StoredAccount {
    StoredAccount {
        password_sha256: Sha256::digest(account.password.as_bytes()).into(),
        email: account.email.to_ascii_lowercase(),
        organization: account.organization,
        role: account.role,
    }
}
