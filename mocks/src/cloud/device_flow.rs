//! The connect flow, shaped as the OAuth 2.0 Device Authorization Grant (RFC 8628) with the
//! DMS as a confidential client that proves its key (RFC 7523): the agent asks for a device
//! code over its own outbound connection, naming itself, the organisation it is set up to join
//! and its public key, and signs the request with that key; an account of that organisation
//! approves the user code on the approval page (`approval`); the agent polls, signing each
//! poll, and gets its token on its own connection. The first redeemed grant registers the DMS
//! with its key; every later one must be signed by it. How codes live and how grants bind is
//! the flow's `DeviceFlowPolicy`, settled once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use rand::RngExt;

use super::CloudState;
use super::client_auth::{authenticate, client_refused};
use super::clients::{ClientError, PublicKey};
use super::device_policy::{CodePolicy, DeviceFlowPolicy, POLL_INTERVAL, USER_CODE_ALPHABET};
use super::dms_text;
use super::grant_bound::{Held, Room};
use super::listener::Peer;
use super::oauth::{ErrorCode, OAuthError, Params, no_store};
use super::tokens::TokenPair;
use crate::world::random_token;

/// Who approved a grant, and for which organisation.
#[derive(Debug, Clone)]
pub(super) struct Approval {
    pub email: String,
    pub organization: String,
}

#[derive(Debug, Clone)]
pub(super) enum GrantState {
    Pending,
    Approved(Approval),
    Denied,
    Redeemed,
}

/// One device authorization: what the DMS asked for, with which key, from where.
#[derive(Debug, Clone)]
pub(super) struct Grant {
    pub user_code: String,
    pub dms_id: String,
    pub dms_name: String,
    /// The organisation the DMS joins: its registered one, or the one it asked for.
    pub organization: String,
    pub key: PublicKey,
    /// The address the device authorization came from, for the approver to judge.
    pub origin: Option<IpAddr>,
    pub requested_at: u64,
    /// The grant's place in the order the cloud issued grants: the simulated clock may not
    /// move between two, so this, not `requested_at`, says which is older.
    pub issued: u64,
    pub expires_at: u64,
    pub interval: u64,
    pub last_poll: Option<u64>,
    pub state: GrantState,
    /// One-use approval tickets the approval page handed out, each to one account.
    pub tickets: Vec<(String, String)>,
    /// Minted at approval when the token goes through the browser: the same pair is then
    /// handed to the DMS.
    pub prepared: Option<TokenPair>,
}

/// A grant past its lifetime answers nothing but `expired_token`; a lifetime later it goes.
fn sweep(grants: &mut HashMap<String, Grant>, now: u64) {
    grants.retain(|_, g| now < g.expires_at + (g.expires_at - g.requested_at));
}

impl Grant {
    /// Whether the grant can still be approved or redeemed at `now`.
    pub fn open(&self, now: u64, codes: &CodePolicy) -> bool {
        let live = !codes.expire || now < self.expires_at;
        live && matches!(self.state, GrantState::Pending | GrantState::Approved(_))
    }
}

/// Device codes waiting for approval or redemption, and the approvers' failed guesses.
#[derive(Debug)]
pub(crate) struct DeviceFlows {
    pub(super) policy: DeviceFlowPolicy,
    grants: Mutex<HashMap<String, Grant>>,
    /// Grants issued so far, for each grant's `issued`.
    issued: AtomicU64,
    /// Per account, the simulated seconds of its wrong user codes.
    pub(super) guesses: Mutex<HashMap<String, Vec<u64>>>,
}

impl DeviceFlows {
    pub fn new(policy: DeviceFlowPolicy) -> Self {
        Self {
            policy,
            grants: Mutex::default(),
            issued: AtomicU64::new(0),
            guesses: Mutex::default(),
        }
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Grant>> {
        self.grants.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Removes the grants past their lifetime, as the cloud's maintenance does.
    pub(super) fn maintain(&self, now: u64) {
        if self.policy.codes.sweep_expired {
            sweep(&mut self.lock(), now);
        }
    }

    /// How many grants (and approval-page tickets) the cloud holds.
    pub(super) fn sizes(&self) -> (usize, usize) {
        let grants = self.lock();
        (grants.len(), grants.values().map(|g| g.tickets.len()).sum())
    }

    /// The device code and grant of `user_code` if it is open at `now`.
    pub(super) fn by_user_code(&self, user_code: &str, now: u64) -> Option<(String, Grant)> {
        let wanted = normalise_user_code(user_code);
        self.lock()
            .iter()
            .find(|(_, g)| g.user_code == wanted && g.open(now, &self.policy.codes))
            .map(|(code, g)| (code.clone(), g.clone()))
    }
}

/// `POST /oauth/device_authorization` (RFC 8628 §3.1), called by the agent with its DMS ID as
/// `client_id`, `dms_name`, `organization`, its public key as `jwk` (needed until the DMS is
/// registered), and a client assertion signed by that key.
pub(crate) async fn authorize(
    State(state): State<Arc<CloudState>>,
    peer: Option<Extension<Peer>>,
    params: Params,
) -> Response {
    start(&state, &params, peer.map(|p| p.0.0.ip())).unwrap_or_else(IntoResponse::into_response)
}

fn start(
    state: &Arc<CloudState>,
    params: &Params,
    origin: Option<IpAddr>,
) -> Result<Response, OAuthError> {
    let policy = state.devices.policy;
    let dms_id = params.require("client_id")?;
    if !valid_dms_id(dms_id) || (policy.binding.ids_without_dots && dms_id.contains('.')) {
        return Err(OAuthError::new(
            ErrorCode::InvalidRequest,
            "client_id must be a DMS ID of letters, digits, '_' or '-'",
        ));
    }
    if policy.binding.canonical_ids
        && (dms_id.bytes().any(|b| b.is_ascii_uppercase()) || state.clients.lookalike(dms_id))
    {
        return Err(OAuthError::new(
            ErrorCode::InvalidRequest,
            "client_id must be a DMS ID in lowercase, and not another's in another case",
        ));
    }
    let organization = params.require("organization")?;
    let dms_name = params.get("dms_name").unwrap_or(dms_id);
    // The name is shown on the approval page beside the ID: plain, short text, as in a mail.
    if dms_name.chars().count() > MAX_DMS_NAME
        || (policy.binding.plain_names && !dms_text::is_plain(dms_name, false, true))
    {
        return Err(OAuthError::new(
            ErrorCode::InvalidRequest,
            "dms_name must be plain text of at most 64 characters, with no link or markup",
        ));
    }
    let presented = params
        .get("jwk")
        .map(PublicKey::from_jwk)
        .transpose()
        .map_err(|e| client_refused(state, dms_id, &e))?;
    let registered = state.clients.registration(dms_id);
    let (key, joins) = match (&registered, presented) {
        (Some(known), presented) if policy.binding.registered_key => {
            if presented.is_some_and(|p| p != known.key) {
                let wrong = ClientError::BadKey("not the key this DMS registered".into());
                return Err(client_refused(state, dms_id, &wrong));
            }
            (known.key.clone(), known.organization.clone())
        }
        (_, Some(presented)) => (presented, organization.to_owned()),
        (_, None) => {
            return Err(OAuthError::new(
                ErrorCode::InvalidRequest,
                "a DMS that is not registered yet must present its jwk",
            ));
        }
    };
    let now = state.clock.unix_seconds();
    authenticate(state, params, dms_id, &key, now)?;
    if joins != organization {
        return Err(OAuthError::new(
            ErrorCode::InvalidRequest,
            "this DMS is registered to another organization",
        ));
    }
    let device_code = random_token(32);
    let interval = POLL_INTERVAL.as_secs();
    let user_code = {
        let mut grants = state.devices.lock();
        if policy.codes.sweep_expired {
            sweep(&mut grants, now);
        }
        if let (Some(limit), Some(source)) = (policy.codes.per_source, origin)
            && grants
                .values()
                .filter(|g| g.origin == Some(source) && g.open(now, &policy.codes))
                .count()
                >= limit
        {
            return Err(OAuthError::new(
                ErrorCode::SlowDown,
                "too many device authorizations waiting from this address",
            ));
        }
        if let Some(bound) = policy.codes.in_all {
            let held = grants.iter().map(|(code, g)| Held {
                device_code: code,
                origin: g.origin,
                issued: g.issued,
                open: g.open(now, &policy.codes),
            });
            match bound.room(grants.len(), held) {
                Room::Free => {}
                Room::PushOut(code) => {
                    grants.remove(&code);
                }
                Room::Refused => {
                    return Err(OAuthError::new(
                        ErrorCode::SlowDown,
                        "too many device authorizations waiting",
                    ));
                }
            }
        }
        let user_code = loop {
            let code = user_code();
            if !grants.values().any(|g| g.user_code == code) {
                break code;
            }
        };
        grants.insert(
            device_code.clone(),
            Grant {
                user_code: user_code.clone(),
                dms_id: dms_id.to_owned(),
                dms_name: dms_name.to_owned(),
                organization: joins,
                key: key.clone(),
                origin,
                requested_at: now,
                issued: state.devices.issued.fetch_add(1, Ordering::Relaxed),
                expires_at: now + policy.codes.lifetime.as_secs(),
                interval,
                last_poll: None,
                state: GrantState::Pending,
                tickets: Vec::new(),
                prepared: None,
            },
        );
        user_code
    };
    state.log.info(format!(
        "device authorization for DMS {dms_id} ({dms_name}) with key {} from {}",
        key.thumbprint,
        origin.map_or_else(|| "an unknown address".to_owned(), |ip| ip.to_string()),
    ));
    let page = format!("{}device", state.connection_url);
    Ok(no_store(
        StatusCode::OK,
        serde_json::json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": page,
            "verification_uri_complete": format!("{page}?user_code={user_code}"),
            "expires_in": policy.codes.lifetime.as_secs(),
            "interval": interval,
        }),
    ))
}

/// The longest DMS name the approval page shows.
const MAX_DMS_NAME: usize = 64;

/// DMS IDs are names in URLs, logs and host names: a plain alphabet, and short.
fn valid_dms_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn user_code() -> String {
    let mut rng = rand::rng();
    let mut code = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        let pick = rng.random_range(0..USER_CODE_ALPHABET.len());
        code.push(char::from(USER_CODE_ALPHABET[pick]));
    }
    code
}

/// People type user codes in any case, with or without the dash.
pub(super) fn normalise_user_code(typed: &str) -> String {
    let letters: String = typed
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    match letters.len() {
        8 => format!("{}-{}", &letters[..4], &letters[4..]),
        _ => letters,
    }
}
