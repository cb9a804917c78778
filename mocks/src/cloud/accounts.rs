use std::collections::HashMap;
use std::sync::Mutex;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::CloudState;
use crate::world::random_token;

/// A dataminer.services account: a person with an email address in an organisation.
#[derive(Debug, Clone)]
pub struct Account {
    pub email: String,
    pub password: String,
    pub organization: String,
}

#[derive(Debug)]
struct StoredAccount {
    email: String,
    password_sha256: [u8; 32],
    organization: String,
}

/// Accounts and their browser sessions. Passwords are kept only as digests.
#[derive(Debug)]
pub(crate) struct Accounts {
    accounts: Vec<StoredAccount>,
    sessions: Mutex<HashMap<String, String>>,
}

/// Who a browser session belongs to.
#[derive(Debug, Clone)]
pub(crate) struct SignedIn {
    pub email: String,
    pub organization: String,
}

/// The name of the session cookie the login sets.
const SESSION_COOKIE: &str = "dms_session";

impl Accounts {
    pub fn new(accounts: Vec<Account>) -> Self {
        Self {
            accounts: accounts
                .into_iter()
                .map(|a| StoredAccount {
                    password_sha256: Sha256::digest(a.password.as_bytes()).into(),
                    email: a.email.to_ascii_lowercase(),
                    organization: a.organization,
                })
                .collect(),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    fn login(&self, email: &str, password: &str) -> Option<String> {
        let digest: [u8; 32] = Sha256::digest(password.as_bytes()).into();
        let email = email.to_ascii_lowercase();
        self.accounts
            .iter()
            .find(|a| a.email == email && a.password_sha256 == digest)?;
        let session = random_token(32);
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(session.clone(), email);
        Some(session)
    }

    /// The account behind the request's session cookie, if it carries a live one.
    pub fn signed_in(&self, headers: &HeaderMap) -> Option<SignedIn> {
        let session = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == SESSION_COOKIE)
            .map(|(_, value)| value.to_owned())?;
        let email = self
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&session)?
            .clone();
        let account = self.accounts.iter().find(|a| a.email == email)?;
        Some(SignedIn {
            email,
            organization: account.organization.clone(),
        })
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
}

/// `POST /account/login`: a session cookie for the right password, 401 otherwise.
pub(crate) async fn login(
    State(state): State<std::sync::Arc<CloudState>>,
    Json(form): Json<LoginForm>,
) -> Response {
    let email = form.email.to_ascii_lowercase();
    let session = state.accounts.login(&form.email, &form.password);
    state.log.info(match session {
        Some(_) => format!("login ok for {email}"),
        None => format!("login failed for {email}"),
    });
    match session {
        Some(session) => (
            [(
                header::SET_COOKIE,
                format!("{SESSION_COOKIE}={session}; Secure; HttpOnly; SameSite=Strict; Path=/"),
            )],
            Json(serde_json::json!({ "email": email })),
        )
            .into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({ "error": "invalid_credentials" })),
        )
            .into_response(),
    }
}
