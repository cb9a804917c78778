//! The connection endpoint's handlers, driven through its router in memory (no TLS): the
//! connect flow with the DMS's key, the verification page, the refresh grant and revocation on
//! the wire, and the faults that break them.

use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use http::{Method, Request};
use hyper::service::Service as _;
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};

use super::super::accounts::{Account, Accounts};
use super::super::bearer::FrontEnd;
use super::super::clients::tests::TestKey;
use super::super::clients::{ASSERTION_TYPE, ClientPolicy, Clients};
use super::super::log::CloudLog;
use super::super::vault::{KeyVault, VaultPolicy};
use super::super::{Hellos, OutageSwitch, RequestLog, Tunnels, device_flow, recipient, tokens};
use super::*;
use crate::world::{Clock, Fault, FaultSet, Lifetime};

const EMAIL: &str = "admin@example.com";
const OUTSIDER: &str = "someone@elsewhere.example";
const PASSWORD: &str = "correct horse battery staple";
const ORG: &str = "Skyline";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn cloud(faults: impl Into<FaultSet>) -> Arc<CloudState> {
    let clock = Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    let faults = faults.into();
    let (vault, workloads) =
        KeyVault::provision(&VaultPolicy::from_faults(&faults), clock.unix_seconds());
    let vault = Arc::new(vault);
    let log = CloudLog::new(clock.clone());
    let store = Arc::new(
        super::super::Store::open(
            None,
            vault.clone(),
            workloads.token_service.clone(),
            clock.clone(),
            &faults,
        )
        .expect("an in-memory store opens"),
    );
    Arc::new(CloudState {
        store,
        tokens: tokens::TokenService::new(
            clock.clone(),
            tokens::TokenPolicy::from_faults(&faults),
            vault.clone(),
            workloads.token_service.clone(),
            log.clone(),
        ),
        vault,
        identity: workloads.token_service.clone(),
        front_end: FrontEnd::from_faults(&faults, &workloads),
        connection_url: "https://connection.dataminer.services:8443/".into(),
        sharing_url: "https://sharing.dataminer.services:8443/".into(),
        shares: super::super::shares::Shares::new(super::super::shares::SharePolicy::from_faults(
            &faults,
        )),
        outbox: super::super::Outbox::new(super::super::outbox::MailPolicy::from_faults(&faults)),
        signups: super::super::signup::SignUps::default(),
        relay: recipient::Relay::from_faults(&faults),
        remote_headers: recipient::TrustedHeaders::from_faults(&faults),
        relay_budget: super::super::relay_budget::RelayBudget::from_faults(
            &faults,
            super::super::relay_budget::ANSWER_WITHIN,
        ),
        relay_target: super::super::relay_target::RelayTarget::from_faults(&faults),
        tunnel_header_budget: Some(super::super::relay_headers::INTO_TUNNEL),
        remote_access: super::super::remote_access::RemoteAccess::new(
            super::super::remote_access::RemoteAccessPolicy::from_faults(&faults),
        ),
        org_admin: super::super::org_admin::AdminPolicy::from_faults(&faults),
        door: super::super::listener::FrontDoor::from_faults(&faults),
        log,
        accounts: Accounts::new(
            vec![
                Account {
                    email: EMAIL.into(),
                    password: PASSWORD.into(),
                    organization: ORG.into(),
                    role: super::super::OrgRole::Owner,
                },
                Account {
                    email: OUTSIDER.into(),
                    password: PASSWORD.into(),
                    organization: "Elsewhere".into(),
                    role: super::super::OrgRole::Owner,
                },
            ],
            super::super::roles::RoleSource::Current,
        ),
        clients: Clients::new(ClientPolicy::from_faults(&faults)),
        devices: device_flow::DeviceFlows::new(
            crate::cloud::device_policy::DeviceFlowPolicy::from_faults(&faults),
        ),
        tunnels: Tunnels::default(),
        requests: RequestLog::default(),
        presenting: super::super::presenting::Presenting::default(),
        key_log: crate::world::capture::KeyLogSlot::default(),
        hellos: Hellos::default(),
        outage: OutageSwitch::default(),
        renewal_hold: super::super::AnswerHold::default(),
        redemptions: super::super::Rendezvous::default(),
        faults,
        lifetime: super::super::restart::Runs::within(&Lifetime::new()),
        ping_timeout: super::super::PING_TIMEOUT,
        clock,
    })
}

struct Answer {
    status: u16,
    headers: http::HeaderMap,
    text: String,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }
}

async fn call(
    state: &Arc<CloudState>,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, String)>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = match body {
        Some((media, body)) => request
            .header("content-type", media)
            .body(Body::from(body))
            .unwrap(),
        None => request.body(Body::empty()).unwrap(),
    };
    let response = TowerToHyperService::new(router(state.clone()))
        .call(request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

fn encoded(params: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

async fn form(
    state: &Arc<CloudState>,
    path: &str,
    headers: &[(&str, &str)],
    params: &[(&str, &str)],
) -> Answer {
    let body = ("application/x-www-form-urlencoded", encoded(params));
    call(state, Method::POST, path, headers, Some(body)).await
}

async fn get(state: &Arc<CloudState>, path: &str, cookie: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
    call(state, Method::GET, path, &headers, None).await
}

async fn login_as(state: &Arc<CloudState>, email: &str) -> String {
    let answer = form(
        state,
        "/account/login",
        &[],
        &[("email", email), ("password", PASSWORD)],
    )
    .await;
    let cookie = answer.header("set-cookie").unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

async fn login(state: &Arc<CloudState>) -> String {
    login_as(state, EMAIL).await
}

fn now(state: &CloudState) -> u64 {
    state.clock.unix_seconds()
}

/// A DMS as a test plays it: its ID and key pair.
struct Dms {
    id: String,
    key: TestKey,
}

impl Dms {
    fn new(id: &str) -> Self {
        Self {
            id: id.into(),
            key: TestKey::p256(),
        }
    }

    /// `params` with this DMS's client authentication added.
    async fn post(&self, state: &Arc<CloudState>, path: &str, params: &[(&str, &str)]) -> Answer {
        let assertion = self.key.assertion(&self.id, now(state));
        let mut all = vec![
            ("client_id", self.id.as_str()),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ];
        all.extend_from_slice(params);
        form(state, path, &[], &all).await
    }

    /// Starts a device flow; returns (device code, user code).
    async fn authorize(&self, state: &Arc<CloudState>) -> (String, String) {
        let answer = self.start(state).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let text = |name: &str| answer.body[name].as_str().unwrap().to_owned();
        (text("device_code"), text("user_code"))
    }

    async fn start(&self, state: &Arc<CloudState>) -> Answer {
        let jwk = self.key.jwk.clone();
        self.post(
            state,
            "/oauth/device_authorization",
            &[
                ("organization", ORG),
                ("dms_name", "Main DMS"),
                ("jwk", &jwk),
            ],
        )
        .await
    }

    async fn redeem(&self, state: &Arc<CloudState>, device_code: &str) -> Answer {
        self.post(
            state,
            "/oauth/token",
            &[("grant_type", DEVICE_GRANT), ("device_code", device_code)],
        )
        .await
    }

    async fn refresh(&self, state: &Arc<CloudState>, refresh_token: &str) -> Answer {
        self.post(
            state,
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }
}

/// The ticket the approval page's form carries, if it has one.
fn ticket(page: &str) -> Option<String> {
    let at = page.find("name=\"ticket\" value=\"")? + "name=\"ticket\" value=\"".len();
    page[at..].split('"').next().map(str::to_owned)
}

/// Opens the page of `user_code` and approves it, typing `confirm` as the DMS ID.
async fn approve(
    state: &Arc<CloudState>,
    user_code: &str,
    cookie: Option<&str>,
    confirm: &str,
) -> Answer {
    let page = get(
        state,
        &format!("/device?user_code={}", user_code.to_lowercase()),
        cookie,
    )
    .await;
    let ticket = ticket(&page.text).unwrap_or_default();
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
    form(
        state,
        "/device/approve",
        &headers,
        &[
            ("user_code", user_code),
            ("ticket", &ticket),
            ("confirm_dms_id", confirm),
            ("action", "approve"),
        ],
    )
    .await
}

/// A DMS connected through the whole flow: its token response.
async fn connected(state: &Arc<CloudState>, dms: &Dms) -> Value {
    let cookie = login(state).await;
    let (device_code, user_code) = dms.authorize(state).await;
    let approval = approve(state, &user_code, Some(&cookie), &dms.id).await;
    assert_eq!(approval.status, 303, "{}", approval.text);
    let answer = dms.redeem(state, &device_code).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.body
}

async fn get_dms(state: &Arc<CloudState>, dms_id: &str, token: &str) -> Answer {
    let bearer = format!("Bearer {token}");
    call(
        state,
        Method::GET,
        &format!("/api/dms/{dms_id}"),
        &[("authorization", &bearer)],
        None,
    )
    .await
}

fn text<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_connect_flow_gives_the_token_to_the_dms_only_and_logs_no_secret() {
    let state = cloud(FaultSet::none());
    let dms = Dms::new("dms-1");
    let cookie = login(&state).await;
    let started = dms.start(&state).await;
    assert_eq!(started.header("cache-control"), Some("no-store"));
    assert_eq!(
        started.body["verification_uri"],
        "https://connection.dataminer.services:8443/device"
    );
    let device_code = text(&started.body, "device_code").to_owned();
    let user_code = text(&started.body, "user_code").to_owned();
    assert_eq!(
        dms.redeem(&state, &device_code).await.error(),
        "authorization_pending"
    );

    let page = get(
        &state,
        &format!("/device?user_code={user_code}"),
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    for shown in ["Main DMS", "dms-1", ORG, &dms.key.public().thumbprint] {
        assert!(page.text.contains(shown), "{shown} not on\n{}", page.text);
    }
    let approval = approve(&state, &user_code, Some(&cookie), "dms-1").await;
    assert_eq!(approval.status, 303, "{}", approval.text);
    let location = approval.header("location").unwrap().to_owned();
    assert_eq!(location, "/device/done?dms_id=dms-1");
    let done = get(&state, &location, Some(&cookie)).await;
    assert_eq!(done.status, 200);
    assert!(done.text.contains("Main DMS"));
    assert_eq!(get(&state, &location, None).await.status, 401);

    state.clock.advance(Duration::from_secs(5));
    let answer = dms.redeem(&state, &device_code).await;
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let tokens = answer.body;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 604_800);
    assert_eq!(
        dms.redeem(&state, &device_code).await.error(),
        "invalid_grant"
    );
    let issued = state.tokens.issued();
    assert_eq!(issued.len(), 1);
    assert_eq!(
        (issued[0].dms_id.as_str(), issued[0].grant),
        ("dms-1", "device_code")
    );
    let lines = state.log.lines().join("\n");
    assert!(lines.contains("login ok for admin@example.com"), "{lines}");
    assert!(
        lines.contains("DMS dms-1 (Main DMS) approved by admin@example.com"),
        "{lines}"
    );
    assert!(lines.contains("DMS dms-1 registered to Skyline"), "{lines}");
    for secret in [
        text(&tokens, "access_token"),
        text(&tokens, "refresh_token"),
        &device_code,
        PASSWORD,
        &cookie[12..],
    ] {
        assert!(!state.log.contains(secret), "{secret} in\n{lines}");
    }
}

#[tokio::test]
async fn a_registered_dms_is_its_key_and_naming_its_id_proves_nothing() {
    for (faults, taken) in [
        (FaultSet::none(), false),
        (Fault::CloudDeviceFlowTrustsDmsId.into(), true),
    ] {
        let state = cloud(faults);
        let dms = Dms::new("dms-1");
        connected(&state, &dms).await;
        let impostor = Dms::new("dms-1");
        let started = impostor.start(&state).await;
        if !taken {
            assert_eq!(started.error(), "invalid_client", "{}", started.text);
            continue;
        }
        let (device_code, user_code) = impostor.authorize(&state).await;
        let cookie = login(&state).await;
        assert_eq!(
            approve(&state, &user_code, Some(&cookie), "dms-1")
                .await
                .status,
            303
        );
        let answer = impostor.redeem(&state, &device_code).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    // Without its key, a registered DMS still starts a flow; a key-less start of a new one
    // is refused.
    let state = cloud(FaultSet::none());
    let dms = Dms::new("dms-1");
    connected(&state, &dms).await;
    let again = dms
        .post(
            &state,
            "/oauth/device_authorization",
            &[("organization", ORG)],
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    let fresh = Dms::new("dms-2")
        .post(
            &state,
            "/oauth/device_authorization",
            &[("organization", ORG)],
        )
        .await;
    assert_eq!(fresh.error(), "invalid_request");
    let bare = form(
        &state,
        "/oauth/device_authorization",
        &[],
        &[("client_id", "dms-1"), ("organization", ORG)],
    )
    .await;
    assert_eq!(bare.error(), "invalid_client");
}

#[tokio::test]
async fn a_device_code_redeems_only_for_the_key_that_asked() {
    for (faults, stolen) in [
        (FaultSet::none(), false),
        (Fault::CloudDeviceCodeIsBearer.into(), true),
    ] {
        let state = cloud(faults);
        let dms = Dms::new("dms-1");
        let cookie = login(&state).await;
        let (device_code, user_code) = dms.authorize(&state).await;
        approve(&state, &user_code, Some(&cookie), "dms-1").await;
        let thief = Dms::new("dms-1");
        let answer = thief.redeem(&state, &device_code).await;
        assert_eq!(answer.status == 200, stolen, "{}", answer.text);
        let bare = form(
            &state,
            "/oauth/token",
            &[],
            &[("grant_type", DEVICE_GRANT), ("device_code", &device_code)],
        )
        .await;
        if !stolen {
            assert_eq!(answer.error(), "invalid_client");
            assert_eq!(bare.error(), "invalid_client");
            assert_eq!(dms.redeem(&state, &device_code).await.status, 200);
        }
    }
}

#[tokio::test]
async fn a_replayed_assertion_is_refused_unless_the_jti_is_forgotten() {
    for (faults, replayable) in [
        (FaultSet::none(), false),
        (Fault::CloudAssertionReplayable.into(), true),
    ] {
        let state = cloud(faults);
        let dms = Dms::new("dms-1");
        let assertion = dms.key.assertion("dms-1", now(&state));
        let params = |a: &str| {
            encoded(&[
                ("client_id", "dms-1"),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", a),
                ("organization", ORG),
                ("jwk", &dms.key.jwk),
            ])
        };
        let body = || Some(("application/x-www-form-urlencoded", params(&assertion)));
        let path = "/oauth/device_authorization";
        assert_eq!(
            call(&state, Method::POST, path, &[], body()).await.status,
            200
        );
        let replay = call(&state, Method::POST, path, &[], body()).await;
        assert_eq!(replay.status == 200, replayable, "{}", replay.text);
        if !replayable {
            assert_eq!(replay.error(), "invalid_client");
        }
    }
}

#[tokio::test]
async fn only_an_account_of_the_dms_organization_approves_it() {
    for (faults, foreign_taken) in [
        (FaultSet::none(), false),
        (Fault::CloudApprovalAnyOrganization.into(), true),
    ] {
        let state = cloud(faults);
        let dms = Dms::new("dms-1");
        let (device_code, user_code) = dms.authorize(&state).await;
        let outsider = login_as(&state, OUTSIDER).await;
        let approval = approve(&state, &user_code, Some(&outsider), "dms-1").await;
        assert_eq!(approval.status == 303, foreign_taken, "{}", approval.text);
        let answer = dms.redeem(&state, &device_code).await;
        if foreign_taken {
            let claims = state
                .tokens
                .validate(text(&answer.body, "access_token"))
                .unwrap();
            assert_eq!(claims.org, "Elsewhere");
        } else {
            assert_eq!(approval.status, 403);
            assert_eq!(answer.error(), "authorization_pending");
        }
    }
}

#[tokio::test]
async fn the_approver_must_type_the_dms_id_with_the_pages_ticket() {
    for (faults, one_click) in [
        (FaultSet::none(), false),
        (Fault::CloudApproveWithoutConfirmation.into(), true),
    ] {
        let state = cloud(faults);
        let dms = Dms::new("dms-1");
        let (_, user_code) = dms.authorize(&state).await;
        let cookie = login(&state).await;
        let mistyped = approve(&state, &user_code, Some(&cookie), "dms-2").await;
        assert_eq!(mistyped.status == 303, one_click, "{}", mistyped.text);
        let no_ticket = form(
            &state,
            "/device/approve",
            &[("cookie", &cookie)],
            &[("user_code", &user_code), ("confirm_dms_id", "dms-1")],
        )
        .await;
        assert_eq!(no_ticket.status == 303, one_click);
        if !one_click {
            assert_eq!(mistyped.status, 400);
            assert_eq!(
                approve(&state, &user_code, Some(&cookie), "dms-1")
                    .await
                    .status,
                303
            );
        }
    }
    let hidden = cloud(Fault::CloudApprovalPageHidesDms);
    let dms = Dms::new("dms-1");
    let (_, user_code) = dms.authorize(&hidden).await;
    let cookie = login(&hidden).await;
    let page = get(
        &hidden,
        &format!("/device?user_code={user_code}"),
        Some(&cookie),
    )
    .await;
    assert!(page.text.contains(&user_code));
    assert!(!page.text.contains("Main DMS") && !page.text.contains(ORG));
}

#[tokio::test]
async fn device_codes_expire_slow_fast_pollers_and_work_once() {
    let state = cloud(FaultSet::none());
    let dms = Dms::new("dms-1");
    let (device_code, _) = dms.authorize(&state).await;
    assert_eq!(
        dms.redeem(&state, &device_code).await.error(),
        "authorization_pending"
    );
    let fast = dms.redeem(&state, &device_code).await;
    assert_eq!(fast.error(), "slow_down");
    state.clock.advance(Duration::from_secs(10));
    assert_eq!(
        dms.redeem(&state, &device_code).await.error(),
        "authorization_pending"
    );
    state.clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(
        dms.redeem(&state, &device_code).await.error(),
        "expired_token"
    );

    for (fault, error) in [
        (Fault::CloudNoSlowDown, "authorization_pending"),
        (Fault::CloudDeviceCodeNeverExpires, "slow_down"),
    ] {
        let state = cloud(fault);
        let (device_code, _) = dms.authorize(&state).await;
        dms.redeem(&state, &device_code).await;
        assert_eq!(dms.redeem(&state, &device_code).await.error(), error);
    }
    let lasting = cloud(Fault::CloudDeviceCodeNeverExpires);
    let (device_code, _) = dms.authorize(&lasting).await;
    lasting.clock.advance(Duration::from_secs(24 * 3600));
    assert_eq!(
        dms.redeem(&lasting, &device_code).await.error(),
        "authorization_pending"
    );

    let reusable = cloud(Fault::CloudDeviceCodeReusable);
    let cookie = login(&reusable).await;
    let (device_code, user_code) = dms.authorize(&reusable).await;
    approve(&reusable, &user_code, Some(&cookie), "dms-1").await;
    assert_eq!(dms.redeem(&reusable, &device_code).await.status, 200);
    reusable.clock.advance(Duration::from_secs(10));
    assert_eq!(dms.redeem(&reusable, &device_code).await.status, 200);
}

#[tokio::test]
async fn wrong_user_codes_lock_the_account_out_for_a_while() {
    for (faults, limited) in [
        (FaultSet::none(), true),
        (Fault::CloudUserCodeGuessingUnlimited.into(), false),
    ] {
        let state = cloud(faults);
        let dms = Dms::new("dms-1");
        let (_, user_code) = dms.authorize(&state).await;
        let cookie = login(&state).await;
        let statuses: Vec<u16> = futures_util::future::join_all(
            (0..8).map(|_| get(&state, "/device?user_code=BBBB-BBBB", Some(&cookie))),
        )
        .await
        .iter()
        .map(|a| a.status)
        .collect();
        let evaluated = statuses.iter().filter(|s| **s == 404).count();
        assert_eq!(evaluated, if limited { 5 } else { 8 }, "{statuses:?}");
        let right = get(
            &state,
            &format!("/device?user_code={user_code}"),
            Some(&cookie),
        )
        .await;
        assert_eq!(right.status == 429, limited);
        if limited {
            assert!(right.header("retry-after").is_some());
            state.clock.advance(Duration::from_secs(15 * 60));
            let later = get(
                &state,
                &format!("/device?user_code={user_code}"),
                Some(&cookie),
            )
            .await;
            // The window has passed, and so has the code's lifetime.
            assert_eq!(later.status, 404);
        }
    }
}

#[tokio::test]
async fn a_disconnect_revokes_every_family_of_the_dms_for_its_key_only() {
    let state = cloud(FaultSet::none());
    let dms = Dms::new("dms-1");
    let first = connected(&state, &dms).await;
    let second = connected(&state, &dms).await;
    let outsider = Dms::new("dms-1");
    let token = text(&first, "access_token");
    let refused = outsider
        .post(&state, "/oauth/revoke", &[("token", token)])
        .await;
    assert_eq!(refused.error(), "invalid_client");
    assert_eq!(get_dms(&state, "dms-1", token).await.status, 200);
    let revoked = dms.post(&state, "/oauth/revoke", &[("token", token)]).await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    for pair in [&first, &second] {
        assert_eq!(
            get_dms(&state, "dms-1", text(pair, "access_token"))
                .await
                .status,
            401
        );
        assert_eq!(
            dms.refresh(&state, text(pair, "refresh_token"))
                .await
                .error(),
            "invalid_grant"
        );
    }
}

#[tokio::test]
async fn fault_token_via_browser_or_cookie_hands_the_dms_tokens_to_the_browser() {
    for (faults, via_browser) in [
        (FaultSet::none(), false),
        (Fault::CloudTokenViaBrowser.into(), true),
        (Fault::CloudTokenInBrowserCookie.into(), true),
    ] {
        let state = cloud(faults);
        let dms = Dms::new("dms-1");
        let cookie = login(&state).await;
        let (device_code, user_code) = dms.authorize(&state).await;
        let approval = approve(&state, &user_code, Some(&cookie), "dms-1").await;
        let tokens = dms.redeem(&state, &device_code).await.body;
        let shown = format!(
            "{} {}",
            approval.header("location").unwrap_or_default(),
            approval.header("set-cookie").unwrap_or_default()
        );
        let decoded = shown
            .split(['=', ';', ' '])
            .filter_map(|part| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.decode(part).ok()
            })
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect::<String>();
        let seen = format!("{shown} {decoded}");
        assert!(!approval.text.contains(text(&tokens, "access_token")));
        assert_eq!(seen.contains(text(&tokens, "access_token")), via_browser);
        assert_eq!(seen.contains(text(&tokens, "refresh_token")), via_browser);
        assert_eq!(state.tokens.issued().len(), 1);
    }
}

#[tokio::test]
async fn fault_approve_without_login_approves_from_a_browser_with_no_session() {
    for (faults, approved) in [
        (FaultSet::none(), false),
        (Fault::CloudApproveWithoutLogin.into(), true),
    ] {
        let state = cloud(faults);
        let dms = Dms::new("dms-1");
        let (device_code, user_code) = dms.authorize(&state).await;
        let anonymous = approve(&state, &user_code, None, "dms-1").await;
        assert_eq!(anonymous.status == 303, approved, "{}", anonymous.text);
        let forged = approve(
            &state,
            &user_code,
            Some("__Host-dms_session=forged; dms_session=forged"),
            "dms-1",
        )
        .await;
        if !approved {
            assert_eq!((anonymous.status, forged.status), (401, 401));
        }
        let redeemed = dms.redeem(&state, &device_code).await;
        assert_eq!(redeemed.status == 200, approved);
        assert_eq!(state.tokens.issued().is_empty(), !approved);
    }
}

#[tokio::test]
async fn a_dms_reads_its_own_registration_only() {
    let state = cloud(FaultSet::none());
    let one = connected(&state, &Dms::new("dms-1")).await;
    connected(&state, &Dms::new("dms-2")).await;
    let token = text(&one, "access_token");
    let own = get_dms(&state, "dms-1", token).await;
    assert_eq!(
        (own.status, own.body.clone()),
        (200, json!({ "dms_id": "dms-1", "organization": ORG }))
    );
    let other = get_dms(&state, "dms-2", token).await;
    assert_eq!(
        (other.status, other.body["error"].clone()),
        (403, json!("insufficient_scope"))
    );
    assert_eq!(get_dms(&state, "dms-1", "not.a.token").await.status, 401);
    let mut tampered = token.to_owned();
    tampered.pop();
    assert_eq!(get_dms(&state, "dms-1", &tampered).await.status, 401);
}

#[tokio::test]
async fn fault_ignore_sub_serves_any_dms_to_any_valid_token() {
    let state = cloud(Fault::CloudIgnoreSub);
    let one = connected(&state, &Dms::new("dms-1")).await;
    connected(&state, &Dms::new("dms-2")).await;
    let other = get_dms(&state, "dms-2", text(&one, "access_token")).await;
    assert_eq!(
        (other.status, other.body),
        (200, json!({ "dms_id": "dms-2", "organization": ORG }))
    );
    assert_eq!(
        get_dms(&state, "dms-3", text(&one, "access_token"))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn the_refresh_grant_needs_the_key_rotates_once_and_a_replay_kills_the_family() {
    let state = cloud(FaultSet::none());
    let dms = Dms::new("dms-1");
    let first = connected(&state, &dms).await;
    // The refresh key alone, without the DMS's proof: refused, and still live.
    let bare = form(
        &state,
        "/oauth/token",
        &[],
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", text(&first, "refresh_token")),
        ],
    )
    .await;
    assert_eq!(bare.error(), "invalid_client");
    let second = dms.refresh(&state, text(&first, "refresh_token")).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(second.header("cache-control"), Some("no-store"));
    assert_ne!(second.body["refresh_token"], first["refresh_token"]);
    assert_eq!(
        get_dms(&state, "dms-1", text(&second.body, "access_token"))
            .await
            .status,
        200
    );

    let replay = dms.refresh(&state, text(&first, "refresh_token")).await;
    assert_eq!((replay.status, replay.error()), (400, "invalid_grant"));
    for token in [&first, &second.body] {
        assert_eq!(
            get_dms(&state, "dms-1", text(token, "access_token"))
                .await
                .status,
            401
        );
    }
    let current = dms
        .refresh(&state, text(&second.body, "refresh_token"))
        .await;
    assert_eq!((current.status, current.error()), (400, "invalid_grant"));
    assert!(
        state
            .log
            .lines()
            .iter()
            .any(|l| l.contains("replay detected"))
    );
}

#[tokio::test]
async fn requests_speak_rfc_6749_forms_and_errors() {
    let state = cloud(FaultSet::none());
    let missing = form(
        &state,
        "/oauth/token",
        &[],
        &[("grant_type", "refresh_token")],
    )
    .await;
    assert_eq!((missing.status, missing.error()), (400, "invalid_request"));
    assert_eq!(missing.header("cache-control"), Some("no-store"));
    let unknown = form(&state, "/oauth/token", &[], &[("grant_type", "password")]).await;
    assert_eq!(unknown.error(), "unsupported_grant_type");
    let twice = call(
        &state,
        Method::POST,
        "/oauth/token",
        &[],
        Some((
            "application/x-www-form-urlencoded",
            "grant_type=refresh_token&grant_type=password".into(),
        )),
    )
    .await;
    assert_eq!(twice.error(), "invalid_request");
    let untyped = call(
        &state,
        Method::POST,
        "/oauth/token",
        &[],
        Some(("text/plain", "grant_type=refresh_token".into())),
    )
    .await;
    assert_eq!(untyped.error(), "invalid_request");
    let json = call(
        &state,
        Method::POST,
        "/oauth/token",
        &[],
        Some(("application/json", r#"{"grant_type":"password"}"#.into())),
    )
    .await;
    assert_eq!(json.error(), "unsupported_grant_type");
    // The page a person opens, then the sign-in form that comes back to it.
    let page = get(&state, "/device", None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("action=\"/account/login\""));
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let signed_in = form(
        &state,
        "/account/login",
        &[],
        &[
            ("email", EMAIL),
            ("password", PASSWORD),
            ("next", "/device"),
        ],
    )
    .await;
    assert_eq!(
        (signed_in.status, signed_in.header("location")),
        (303, Some("/device"))
    );
    let elsewhere = form(
        &state,
        "/account/login",
        &[],
        &[
            ("email", EMAIL),
            ("password", PASSWORD),
            ("next", "//evil.example/"),
        ],
    )
    .await;
    assert_eq!(elsewhere.status, 200);
}
