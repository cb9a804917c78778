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
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use rand::RngExt;

use super::CloudState;
use super::approval_policy::ApprovalPolicy;
use super::client_auth::{authenticate, client_refused};
use super::clients::{ClientError, PublicKey, Registration};
use super::dms_text;
use super::grant_bound::{GrantBound, Held, OPEN_GRANTS_IN_ALL, Room, WhenFull};
use super::listener::Peer;
use super::oauth::{ErrorCode, OAuthError, Params, no_store};
use super::refresh;
use super::tokens::TokenPair;
use crate::world::{Fault, FaultSet, random_token};

/// How long a device code may wait for approval.
const DEVICE_CODE_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// The polling interval the agent is told to respect.
const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 8628 §3.5: each `slow_down` adds five seconds to the interval.
const SLOW_DOWN_STEP: u64 = 5;
/// RFC 8628 §6.1: consonants only, so a user code spells no word and survives dictation;
/// 20^8 codes, about 34.6 bits, against a rate-limited guesser.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// How the connect flow issues, binds and delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeviceFlowPolicy {
    pub codes: CodePolicy,
    pub binding: GrantBinding,
    pub approval: ApprovalPolicy,
    pub delivery: Delivery,
}

/// How device codes live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CodePolicy {
    pub lifetime: Duration,
    /// Codes past their lifetime are refused.
    pub expire: bool,
    /// A redeemed device code is spent.
    pub single_use: bool,
    /// A poll sooner than the interval after the last one gets `slow_down`.
    pub slow_down: bool,
    /// A redemption reads the grant, decides and writes it back after a store round trip,
    /// instead of deciding and spending under one lock: concurrent polls each see it unspent.
    pub read_then_write: bool,
    /// Grants past their lifetime are removed (at the next authorization, or maintenance).
    pub sweep_expired: bool,
    /// The most grants one source address may have open at once (DOS-1), if limited.
    pub per_source: Option<usize>,
    /// The most grants the cloud holds in all (DOS-1), if limited, and what a new one does
    /// past it.
    pub in_all: Option<GrantBound>,
}

/// The most grants one address may have waiting at once: far above what one site's DMSs
/// start within a code's 15 minutes, far below what fills memory.
const OPEN_GRANTS_PER_SOURCE: usize = 64;
/// The most approval-page tickets one grant keeps: every opening of its page makes one.
pub(super) const TICKETS_PER_GRANT: usize = 8;

/// How a grant is tied to the DMS that asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GrantBinding {
    /// A registered DMS's grant is bound to its registered key, whatever key the request
    /// presents; otherwise to the presented one, which its redemption then registers.
    pub registered_key: bool,
    /// Redeeming a device code needs an assertion by the grant's key.
    pub redeem_needs_key: bool,
    /// A DMS ID is taken only in its canonical (lowercase) form and never beside a registered
    /// one that differs in case alone; otherwise (`cloud.dms-id-case-lookalike`) in any case,
    /// so `DMS-BCEBD039` registers beside `dms-bcebd039` with the same look.
    pub canonical_ids: bool,
    /// A DMS ID has no dot, so it never reads as a host name where a mail or page names it
    /// (`cloud.dms-id-may-be-a-host-name` allows dots).
    pub ids_without_dots: bool,
    /// A DMS's name is plain text (`dms_text`), as the approval page shows it beside the ID;
    /// otherwise (`cloud.dms-name-unchecked`) it is only bounded in length.
    pub plain_names: bool,
}

/// Where the token goes once a user code is approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Only to the DMS, in the answer to its own poll (FLOW-2).
    ServerToServer,
    /// Also to the browser, in the fragment of the approval's redirect (the implicit grant's
    /// shape), from where a page would hand it on: the DMS then polls the same pair.
    ThroughTheBrowser,
    /// Also to the browser, base64-encoded in a cookie the approval sets for the confirmation
    /// page: the DMS then polls the same pair.
    BrowserCookie,
}

impl DeviceFlowPolicy {
    pub fn from_faults(faults: &FaultSet) -> Self {
        let on = |fault| faults.is_on(fault);
        Self {
            codes: CodePolicy {
                lifetime: DEVICE_CODE_LIFETIME,
                expire: !on(Fault::CloudDeviceCodeNeverExpires),
                single_use: !on(Fault::CloudDeviceCodeReusable),
                slow_down: !on(Fault::CloudNoSlowDown),
                read_then_write: on(Fault::CloudDeviceCodeCheckThenSpend),
                sweep_expired: !on(Fault::CloudDeviceGrantsNeverSwept),
                per_source: (!on(Fault::CloudNoPerSourceLimit)).then_some(OPEN_GRANTS_PER_SOURCE),
                in_all: (!on(Fault::CloudDeviceGrantsBoundedPerSourceOnly)).then_some(GrantBound {
                    limit: OPEN_GRANTS_IN_ALL,
                    when_full: if on(Fault::CloudDeviceGrantsRefusedWhenFull) {
                        WhenFull::Refuse
                    } else if on(Fault::CloudDeviceGrantsPushOutTheOldest) {
                        WhenFull::PushOutTheOldest
                    } else {
                        WhenFull::PushOutTheBusiest
                    },
                }),
            },
            binding: GrantBinding {
                registered_key: !on(Fault::CloudDeviceFlowTrustsDmsId),
                redeem_needs_key: !on(Fault::CloudDeviceCodeIsBearer),
                canonical_ids: !on(Fault::CloudDmsIdCaseLookalike),
                ids_without_dots: !on(Fault::CloudDmsIdMayBeAHostName),
                plain_names: !on(Fault::CloudDmsNameUnchecked),
            },
            approval: ApprovalPolicy::from_faults(faults),
            delivery: if on(Fault::CloudTokenViaBrowser) {
                Delivery::ThroughTheBrowser
            } else if on(Fault::CloudTokenInBrowserCookie) {
                Delivery::BrowserCookie
            } else {
                Delivery::ServerToServer
            },
        }
    }
}

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

/// `POST /oauth/token`: the device-code grant polled by the agent, or its refresh grant.
pub(crate) async fn token(State(state): State<Arc<CloudState>>, params: Params) -> Response {
    let answered = match params.get("grant_type") {
        Some(DEVICE_GRANT) => redeem(&state, &params).await,
        Some("refresh_token") => {
            let renewed = refresh::grant(&state, &params);
            state.renewal_hold.pass().await;
            renewed
        }
        Some(_) => Err(OAuthError::code(ErrorCode::UnsupportedGrantType)),
        None => Err(OAuthError::new(
            ErrorCode::InvalidRequest,
            "missing parameter grant_type",
        )),
    };
    answered.unwrap_or_else(IntoResponse::into_response)
}

async fn redeem(state: &Arc<CloudState>, params: &Params) -> Result<Response, OAuthError> {
    let policy = state.devices.policy;
    let device_code = params.require("device_code")?;
    let now = state.clock.unix_seconds();
    let Some(grant) = state.devices.lock().get(device_code).cloned() else {
        return Err(OAuthError::code(ErrorCode::InvalidGrant));
    };
    if policy.binding.redeem_needs_key {
        authenticate(state, params, &grant.dms_id, &grant.key, now)?;
    }
    let (dms_id, approval, prepared) = if policy.codes.read_then_write {
        let mut copy = state
            .devices
            .lock()
            .get(device_code)
            .cloned()
            .ok_or_else(|| OAuthError::code(ErrorCode::InvalidGrant))?;
        // The store round trip: every concurrent redemption a scenario expects checks here.
        state.redemptions.meet().await;
        let decided = decide(&mut copy, now, policy.codes);
        state.devices.lock().insert(device_code.to_owned(), copy);
        decided?
    } else {
        let mut grants = state.devices.lock();
        let grant = grants
            .get_mut(device_code)
            .ok_or_else(|| OAuthError::code(ErrorCode::InvalidGrant))?;
        decide(grant, now, policy.codes)?
    };
    register(state, &grant, &approval)?;
    state.log.info(format!(
        "device code of DMS {dms_id} redeemed; approved by {}",
        approval.email
    ));
    match prepared.map_or_else(|| state.tokens.issue(&dms_id, &approval.organization), Ok) {
        Ok(pair) => Ok(refresh::token_response(&pair)),
        Err(_) => Err(OAuthError::code(ErrorCode::ServerError)),
    }
}

/// One poll of `grant` at `now`: refused, still pending, or redeemed (spent when codes are
/// single-use). Returns the DMS, its approval and a token prepared at approval, if any.
fn decide(
    grant: &mut Grant,
    now: u64,
    policy: CodePolicy,
) -> Result<(String, Approval, Option<super::tokens::TokenPair>), OAuthError> {
    if policy.expire && now >= grant.expires_at {
        return Err(OAuthError::code(ErrorCode::ExpiredToken));
    }
    // A spent or denied code is over, however fast it is polled.
    match grant.state {
        GrantState::Redeemed => return Err(OAuthError::code(ErrorCode::InvalidGrant)),
        GrantState::Denied => return Err(OAuthError::code(ErrorCode::AccessDenied)),
        GrantState::Pending | GrantState::Approved(_) => {}
    }
    let too_soon = grant.last_poll.is_some_and(|at| now < at + grant.interval);
    grant.last_poll = Some(now);
    if too_soon && policy.slow_down {
        grant.interval += SLOW_DOWN_STEP;
        return Err(OAuthError::new(
            ErrorCode::SlowDown,
            format!("poll every {} s", grant.interval),
        ));
    }
    let approval = match &grant.state {
        GrantState::Approved(approval) => approval.clone(),
        _ => return Err(OAuthError::code(ErrorCode::AuthorizationPending)),
    };
    if policy.single_use {
        grant.state = GrantState::Redeemed;
    }
    Ok((grant.dms_id.clone(), approval, grant.prepared.take()))
}

/// The first grant registers the DMS with the grant's key; a later one must be of that key
/// (a grant of another key, started before the DMS registered, redeems nothing).
fn register(state: &CloudState, grant: &Grant, approval: &Approval) -> Result<(), OAuthError> {
    let binding = state.devices.policy.binding;
    match state.clients.registration(&grant.dms_id) {
        Some(known) if known.key == grant.key => Ok(()),
        Some(_) if binding.registered_key => {
            state.log.info(format!(
                "grant of DMS {} refused: it is registered with another key",
                grant.dms_id
            ));
            Err(OAuthError::code(ErrorCode::InvalidGrant))
        }
        _ => {
            state.clients.register(
                &grant.dms_id,
                Registration {
                    name: grant.dms_name.clone(),
                    organization: approval.organization.clone(),
                    key: grant.key.clone(),
                },
            );
            state.log.info(format!(
                "DMS {} registered to {} with key {}",
                grant.dms_id, approval.organization, grant.key.thumbprint
            ));
            let kept = state.store.put(&super::store::DmsRegistration {
                dms_id: grant.dms_id.clone(),
                name: grant.dms_name.clone(),
                organization: approval.organization.clone(),
                key_thumbprint: grant.key.thumbprint.clone(),
                registered_at: state.clock.unix_seconds(),
                public_key: grant.key.jwk(),
            });
            if let Err(e) = kept {
                state.log.info(format!(
                    "registration of DMS {} not stored: {e}",
                    grant.dms_id
                ));
            }
            Ok(())
        }
    }
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
