use std::sync::Mutex;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use sha2::{Digest, Sha256};

use super::CloudState;
use super::oauth::Params;
use super::pages::sign_in;
use super::roles::{OrgRole, RoleSource};
use super::sessions::Sessions;
use super::store::AccountRecord;

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
}

/// Who a browser session belongs to.
#[derive(Debug, Clone)]
pub(crate) struct SignedIn {
    pub email: String,
    pub organization: String,
    pub role: OrgRole,
}

/// The name of the session cookie the login sets.
const SESSION_COOKIE: &str = "dms_session";

impl Accounts {
    pub fn new(accounts: Vec<Account>, roles: RoleSource) -> Self {
        Self {
            accounts: Mutex::new(accounts.into_iter().map(stored).collect()),
            sessions: Sessions::unbounded(),
            roles,
        }
    }

    /// These accounts, with sessions kept as `sessions` says.
    pub fn with_sessions(self, sessions: Sessions) -> Self {
        Self { sessions, ..self }
    }

    /// Ends the session the request's cookie names, if live (a sign-out).
    pub fn sign_out(&self, headers: &HeaderMap) -> bool {
        session_of(headers).is_some_and(|session| self.sessions.end(&session))
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

    /// The organisation and role of the account of `email`.
    pub fn membership(&self, email: &str) -> Option<(String, OrgRole)> {
        let email = email.to_ascii_lowercase();
        self.lock_accounts()
            .iter()
            .find(|a| a.email == email)
            .map(|a| (a.organization.clone(), a.role))
    }

    /// What the store keeps of each account: its address, organisation and password digest.
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

    fn login(&self, email: &str, password: &str) -> Option<String> {
        let digest: [u8; 32] = Sha256::digest(password.as_bytes()).into();
        let email = email.to_ascii_lowercase();
        let role = self
            .lock_accounts()
            .iter()
            .find(|a| a.email == email && a.password_sha256 == digest)?
            .role;
        Some(self.open_session(&email, role))
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

    fn lock_accounts(&self) -> std::sync::MutexGuard<'_, Vec<StoredAccount>> {
        self.accounts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The account behind the request's session cookie, if it carries a live one.
    /// How many browser sessions are open.
    pub fn session_count(&self) -> usize {
        self.sessions.count()
    }

    pub fn signed_in(&self, headers: &HeaderMap) -> Option<SignedIn> {
        let session = session_of(headers)?;
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

/// The session the request's cookie names.
fn session_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
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
    }
}

fn stored(account: Account) -> StoredAccount {
    StoredAccount {
        password_sha256: Sha256::digest(account.password.as_bytes()).into(),
        email: account.email.to_ascii_lowercase(),
        organization: account.organization,
        role: account.role,
    }
}

/// The `Set-Cookie` value of a new browser session.
pub(crate) fn session_cookie(session: &str) -> String {
    format!("{SESSION_COOKIE}={session}; Secure; HttpOnly; SameSite=Strict; Path=/")
}

/// `POST /account/login` with `email` and `password`: a session cookie for the right
/// password, 401 otherwise. A browser's form (with `next`, a path on this host) is sent on
/// there; a JSON client gets JSON.
pub(crate) async fn login(
    State(state): State<std::sync::Arc<CloudState>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let email = params.get("email").unwrap_or_default().to_ascii_lowercase();
    let session = state
        .accounts
        .login(&email, params.get("password").unwrap_or_default());
    state.log.info(match session {
        Some(_) => format!("login ok for {email}"),
        None => format!("login failed for {email}"),
    });
    let from_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let next = params.get("next").filter(|n| is_local_path(n));
    let Some(session) = session else {
        if from_form {
            return sign_in(
                StatusCode::UNAUTHORIZED,
                "Wrong email or password.",
                next.unwrap_or("/device"),
            );
        }
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({ "error": "invalid_credentials" })),
        )
            .into_response();
    };
    let cookie = session_cookie(&session);
    match next {
        Some(next) if from_form => (
            StatusCode::SEE_OTHER,
            [
                (header::SET_COOKIE, cookie),
                (header::LOCATION, next.to_owned()),
            ],
        )
            .into_response(),
        _ => (
            [(header::SET_COOKIE, cookie)],
            Json(serde_json::json!({ "email": email })),
        )
            .into_response(),
    }
}

/// A path on this host: `/x`, never `//elsewhere` or `/\elsewhere`, which browsers take
/// for another host (an open redirect).
pub(crate) fn is_local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control())
}

/// `POST /account/logout`: ends the session the cookie names on the cloud (a copied cookie
/// no longer works afterwards) and clears the cookie; 401 without a live session.
pub(crate) async fn logout(
    State(state): State<std::sync::Arc<CloudState>>,
    headers: HeaderMap,
) -> Response {
    if !state.accounts.sign_out(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({ "error": "not_signed_in" })),
        )
            .into_response();
    }
    state.log.info("signed out: session ended");
    (
        [(
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}=; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
        )],
        Json(serde_json::json!({ "signed_out": true })),
    )
        .into_response()
}
