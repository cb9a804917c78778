//! The connection endpoint's handlers, driven through its router in memory (no TLS): the
//! connect flow, the refresh grant on the wire, approval and the per-DMS resource, with the
//! faults that break them.

use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use http::{Method, Request};
use hyper::service::Service as _;
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};

use super::super::accounts::{Account, Accounts};
use super::super::log::CloudLog;
use super::super::vault::KeyVault;
use super::super::{Hellos, OutageSwitch, RequestLog, Tunnels, device_flow, recipient, tokens};
use super::*;
use crate::world::{Clock, Fault, FaultSet, Lifetime};

const EMAIL: &str = "admin@example.com";
const PASSWORD: &str = "correct horse battery staple";

fn cloud(faults: impl Into<FaultSet>) -> Arc<CloudState> {
    let clock = Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    let faults = faults.into();
    let (vault, identity) = KeyVault::provision();
    let vault = Arc::new(vault);
    let log = CloudLog::new(clock.clone());
    Arc::new(CloudState {
        tokens: tokens::TokenService::new(
            clock.clone(),
            tokens::TokenPolicy::from_faults(&faults),
            vault.clone(),
            identity.clone(),
            log.clone(),
        ),
        vault,
        identity,
        relay: recipient::Relay::from_faults(&faults),
        door: super::super::listener::FrontDoor::from_faults(&faults),
        log,
        accounts: Accounts::new(vec![Account {
            email: EMAIL.into(),
            password: PASSWORD.into(),
            organization: "Skyline".into(),
        }]),
        devices: device_flow::DeviceFlows::new(device_flow::DeviceFlowPolicy::from_faults(&faults)),
        tunnels: Tunnels::default(),
        requests: RequestLog::default(),
        hellos: Hellos::default(),
        outage: OutageSwitch::default(),
        faults,
        lifetime: Lifetime::new(),
        ping_timeout: super::super::PING_TIMEOUT,
        clock,
    })
}

struct Answer {
    status: u16,
    cookie: Option<String>,
    location: Option<String>,
    body: Value,
}

async fn call(
    state: &Arc<CloudState>,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> Answer {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Body::from(body.to_string())).unwrap();
    let response = TowerToHyperService::new(router(state.clone()))
        .call(request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        cookie,
        location,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

async fn post(
    state: &Arc<CloudState>,
    path: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> Answer {
    call(state, Method::POST, path, headers, body).await
}

async fn login(state: &Arc<CloudState>) -> String {
    let answer = post(
        state,
        "/account/login",
        &[],
        json!({ "email": EMAIL, "password": PASSWORD }),
    )
    .await;
    answer.cookie.unwrap()
}

/// Starts a device flow for `dms_id`; returns (device code, user code).
async fn authorize(state: &Arc<CloudState>, dms_id: &str) -> (String, String) {
    let answer = post(
        state,
        "/oauth/device_authorization",
        &[],
        json!({ "client_id": "dataminer-cloud-gateway", "dms_id": dms_id }),
    )
    .await;
    let text = |name: &str| answer.body[name].as_str().unwrap().to_owned();
    (text("device_code"), text("user_code"))
}

async fn approve(state: &Arc<CloudState>, user_code: &str, cookie: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
    post(
        state,
        "/device/approve",
        &headers,
        json!({ "user_code": user_code.to_lowercase(), "dms_name": "Main DMS" }),
    )
    .await
}

async fn redeem(state: &Arc<CloudState>, device_code: &str) -> Answer {
    post(
        state,
        "/oauth/token",
        &[],
        json!({ "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": device_code }),
    )
    .await
}

async fn refresh(state: &Arc<CloudState>, refresh_token: &str) -> Answer {
    post(
        state,
        "/oauth/token",
        &[],
        json!({ "grant_type": "refresh_token", "refresh_token": refresh_token }),
    )
    .await
}

/// A DMS connected through the whole flow: its token response.
async fn connected(state: &Arc<CloudState>, dms_id: &str) -> Value {
    let cookie = login(state).await;
    let (device_code, user_code) = authorize(state, dms_id).await;
    assert_eq!(approve(state, &user_code, Some(&cookie)).await.status, 303);
    let answer = redeem(state, &device_code).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

async fn get_dms(state: &Arc<CloudState>, dms_id: &str, token: &str) -> Answer {
    let bearer = format!("Bearer {token}");
    call(
        state,
        Method::GET,
        &format!("/api/dms/{dms_id}"),
        &[("authorization", &bearer)],
        Value::Null,
    )
    .await
}

fn text<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_connect_flow_gives_the_token_to_the_dms_only_and_logs_no_secret() {
    let state = cloud(FaultSet::none());
    let cookie = login(&state).await;
    let (device_code, user_code) = authorize(&state, "dms-1").await;
    assert_eq!(
        redeem(&state, &device_code).await.body["error"],
        "authorization_pending"
    );
    let approval = approve(&state, &user_code, Some(&cookie)).await;
    assert_eq!(approval.status, 303);
    let location = approval.location.unwrap();
    assert_eq!(location, "/device/done?dms_id=dms-1");
    let with_session = [("cookie", cookie.as_str())];
    let done = call(&state, Method::GET, &location, &with_session, Value::Null).await;
    assert_eq!(
        (done.status, done.body),
        (
            200,
            json!({ "approved": true, "dms_id": "dms-1", "organization": "Skyline" })
        )
    );
    let anonymous = call(&state, Method::GET, &location, &[], Value::Null).await;
    assert_eq!(anonymous.status, 401);
    let tokens = redeem(&state, &device_code).await.body;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 604_800);
    assert_eq!(
        redeem(&state, &device_code).await.body["error"],
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
    for secret in [
        text(&tokens, "access_token"),
        text(&tokens, "refresh_token"),
        PASSWORD,
        &cookie[12..],
    ] {
        assert!(!state.log.contains(secret), "{secret} in\n{lines}");
    }
}

#[tokio::test]
async fn fault_token_via_browser_puts_the_dms_tokens_in_the_approval_redirect() {
    for (faults, via_browser) in [
        (FaultSet::none(), false),
        (Fault::CloudTokenViaBrowser.into(), true),
    ] {
        let state = cloud(faults);
        let cookie = login(&state).await;
        let (device_code, user_code) = authorize(&state, "dms-1").await;
        let approval = approve(&state, &user_code, Some(&cookie)).await;
        let tokens = redeem(&state, &device_code).await.body;
        let shown = approval.location.unwrap_or_default();
        // The answer's body stays clean: the leak is in the redirect alone.
        assert!(
            !approval
                .body
                .to_string()
                .contains(text(&tokens, "access_token"))
        );
        assert_eq!(shown.contains(text(&tokens, "access_token")), via_browser);
        assert_eq!(shown.contains(text(&tokens, "refresh_token")), via_browser);
        assert_eq!(state.tokens.issued().len(), 1);
    }
}

#[tokio::test]
async fn fault_approve_without_login_approves_from_a_browser_with_no_session() {
    for (faults, status) in [
        (FaultSet::none(), 401),
        (Fault::CloudApproveWithoutLogin.into(), 303),
    ] {
        let state = cloud(faults);
        let (device_code, user_code) = authorize(&state, "dms-1").await;
        assert_eq!(approve(&state, &user_code, None).await.status, status);
        assert_eq!(
            approve(&state, &user_code, Some("dms_session=forged"))
                .await
                .status,
            status
        );
        let redeemed = redeem(&state, &device_code).await;
        assert_eq!(redeemed.status == 200, status == 303);
        assert_eq!(state.tokens.issued().is_empty(), status == 401);
    }
}

#[tokio::test]
async fn a_dms_reads_its_own_registration_only() {
    let state = cloud(FaultSet::none());
    let one = connected(&state, "dms-1").await;
    connected(&state, "dms-2").await;
    let token = text(&one, "access_token");
    let own = get_dms(&state, "dms-1", token).await;
    assert_eq!(
        (own.status, own.body.clone()),
        (200, json!({ "dms_id": "dms-1", "organization": "Skyline" }))
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
    let one = connected(&state, "dms-1").await;
    connected(&state, "dms-2").await;
    let other = get_dms(&state, "dms-2", text(&one, "access_token")).await;
    assert_eq!(
        (other.status, other.body),
        (200, json!({ "dms_id": "dms-2", "organization": "Skyline" }))
    );
    assert_eq!(
        get_dms(&state, "dms-3", text(&one, "access_token"))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn the_refresh_grant_rotates_once_and_a_replay_kills_the_family_on_the_wire() {
    let state = cloud(FaultSet::none());
    let first = connected(&state, "dms-1").await;
    let second = refresh(&state, text(&first, "refresh_token")).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body["token_type"], "Bearer");
    assert_ne!(second.body["refresh_token"], first["refresh_token"]);
    assert_eq!(
        get_dms(&state, "dms-1", text(&second.body, "access_token"))
            .await
            .status,
        200
    );

    let replay = refresh(&state, text(&first, "refresh_token")).await;
    assert_eq!(
        (replay.status, replay.body),
        (400, json!({ "error": "invalid_grant" }))
    );
    for token in [&first, &second.body] {
        assert_eq!(
            get_dms(&state, "dms-1", text(token, "access_token"))
                .await
                .status,
            401
        );
    }
    let current = refresh(&state, text(&second.body, "refresh_token")).await;
    assert_eq!(
        (current.status, current.body),
        (400, json!({ "error": "invalid_grant" }))
    );
    assert!(
        state
            .log
            .lines()
            .iter()
            .any(|l| l.contains("replay detected"))
    );

    let missing = post(
        &state,
        "/oauth/token",
        &[],
        json!({ "grant_type": "refresh_token" }),
    )
    .await;
    assert_eq!(
        (missing.status, missing.body),
        (400, json!({ "error": "invalid_request" }))
    );
    let unknown = post(
        &state,
        "/oauth/token",
        &[],
        json!({ "grant_type": "password" }),
    )
    .await;
    assert_eq!(unknown.body, json!({ "error": "unsupported_grant_type" }));
}
