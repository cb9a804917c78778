//! Steps that several scenarios take, each as a person would take it.

use std::time::Duration;

use mocks::Environment;
use mocks::cloud::{Endpoint, FirstFlight};
use serde_json::{Value, json};

use crate::Failure;
use crate::clients::{CloudClient, DmaClient, DmaReply, DmaSession};

/// A recipient reaching a DMS's API through the sharing front end: scenarios and benchmarks
/// download through it.
pub use crate::suites::tunnel::recipient_client::{Received, Recipient};
/// A DMS-side loopback server for tunnel streams: scenarios and benchmarks point the agent at
/// it.
pub use crate::suites::tunnel::sink::{LARGE, Sink};

/// How long a scenario waits for an event the environment is expected to produce promptly
/// (a socket closing, a tunnel registering). Only a failing system ever waits this long.
pub const PROMPTLY: Duration = Duration::from_secs(5);

/// The RFC 8628 polling interval the cloud announces.
const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// The Administrator connects the DMS to dataminer.services: logs in to the DMS and asks it to
/// connect, signs in to dataminer.services and approves the DMS's user code; the agent picks up
/// its token at its next poll and opens the tunnel. Returns the admin's DMS session.
pub async fn connect_dms(env: &Environment) -> Result<DmaSession, Failure> {
    connect_dms_with(env, &CloudClient::new(env)?).await
}

/// `connect_dms`, with the Administrator's browser given, so a scenario can look at what the
/// browser was shown.
pub async fn connect_dms_with(
    env: &Environment,
    browser: &CloudClient,
) -> Result<DmaSession, Failure> {
    let accounts = env.accounts();
    let admin = DmaClient::new(env).log_in(&accounts.dms_admin).await?;
    let pairing = admin.expect_data("ConnectToCloud", json!({})).await?;
    let user_code = pairing
        .get("UserCode")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Failure::expectation("ConnectToCloud", "a user code to approve", &pairing)
        })?;

    let cookie = cloud_login(env, browser).await?;
    let approval = browser
        .post(
            Endpoint::Connection,
            "device/approve",
            &json!({ "user_code": user_code, "dms_name": accounts.dms_name }),
            Some(&cookie),
        )
        .await?;
    if approval.status != 200 {
        return Err(Failure::expectation(
            "approving the DMS",
            "HTTP 200",
            approval,
        ));
    }

    env.advance(POLL_INTERVAL).await;
    let tunnels = env.cloud().tunnels();
    let up = tunnels
        .wait_live(&accounts.dms_id, mocks::agent::TUNNELS, PROMPTLY)
        .await
        && tunnels
            .wait_ready(&accounts.dms_id, mocks::agent::TUNNELS, PROMPTLY)
            .await;
    if !up {
        return Err(Failure::expectation(
            "tunnels the cloud holds for the DMS after approval",
            format!("{}", mocks::agent::TUNNELS),
            env.cloud().tunnels().events(),
        ));
    }
    Ok(admin)
}

/// Ordinary activity on the DMA that has nothing to do with the cloud: users log in, read
/// elements, parameters and alarms, set a parameter, log out.
pub async fn everyday_dma_activity(env: &Environment) -> Result<(), Failure> {
    let client = DmaClient::new(env);
    let accounts = env.accounts();
    for user in [&accounts.dms_admin, &accounts.dms_operator] {
        let session = client.log_in(user).await?;
        let element = json!({ "dmaID": 2000, "elementID": "100" });
        session.expect_data("GetElement", element.clone()).await?;
        session
            .expect_data("GetActiveAlarmsForElement", element)
            .await?;
        session
            .expect_data(
                "GetParameter",
                json!({ "dmaID": "2000", "elementID": 100, "parameterID": 1001 }),
            )
            .await?;
        session
            .expect_data(
                "SetParameter",
                json!({ "dmaID": 2000, "elementID": 101, "parameterID": 2001, "value": "9000" }),
            )
            .await?;
        session.expect_data("LogOut", json!({})).await?;
    }
    Ok(())
}

/// Lets `span` of simulated time pass in `steps` equal advances, the agent acting after each.
pub async fn let_time_pass(env: &Environment, span: Duration, steps: u32) {
    let steps = steps.max(1);
    let step = span / steps;
    for _ in 1..steps {
        env.advance(step).await;
    }
    // The last step takes what division left over, so the clock lands exactly on the target.
    env.advance(span - step * (steps - 1)).await;
}

/// Waits until the DMS side has dropped every tunnel socket it held: the cloud closing a tunnel
/// reaches the agent in real time, and simulated time must not run ahead of it. False when the
/// sockets stayed open past `PROMPTLY`.
pub async fn dms_let_go_of_tunnels(env: &Environment) -> bool {
    env.dms_egress()
        .wait_all_closed(Endpoint::Tunnel.host(), PROMPTLY)
        .await
}

/// The bearer token the cloud last saw on a tunnel upgrade: what an eavesdropper or a thief
/// would replay. Taken from the cloud's request record, not from the DMS.
pub fn token_seen_on_tunnel(env: &Environment) -> Result<String, Failure> {
    env.cloud()
        .requests()
        .all()
        .iter()
        .rev()
        .filter(|r| r.endpoint == Endpoint::Tunnel.host())
        .find_map(|r| r.bearer().map(str::to_owned))
        .ok_or_else(|| Failure::Harness("the cloud recorded no tunnel upgrade with a token".into()))
}

/// The Administrator asks the DMS to connect, and nothing more: the agent's first contact with
/// the cloud. Returns the DMA's answer, whatever it is.
pub async fn ask_dms_to_connect(env: &Environment) -> Result<DmaReply, Failure> {
    let admin = DmaClient::new(env)
        .log_in(&env.accounts().dms_admin)
        .await?;
    admin.call("ConnectToCloud", json!({})).await
}

/// The first flights the cloud recorded from the DMS: matched by address and time, as two ends
/// of one capture are, not by what the DMS says it sent. (By address alone, a browser whose
/// connection reused the port of a DMS socket closed just before passed for the DMS.)
pub fn first_flights_from_dms(env: &Environment) -> Vec<FirstFlight> {
    let dms = env.dms_egress();
    env.cloud()
        .hellos()
        .all()
        .into_iter()
        .filter(|f| dms.had_address_at(f.peer, f.received))
        .collect()
}

/// The Administrator signs in to dataminer.services; returns the session cookie.
pub async fn cloud_login(env: &Environment, browser: &CloudClient) -> Result<String, Failure> {
    let cloud = &env.accounts().cloud_admin;
    let login = browser
        .post(
            Endpoint::Connection,
            "account/login",
            &json!({ "email": cloud.email, "password": cloud.password }),
            None,
        )
        .await?;
    login
        .set_cookie
        .clone()
        .ok_or_else(|| Failure::expectation("cloud login", "a session cookie", &login))
}

/// Another DMS goes through the whole connect flow, played by the scenario itself over its own
/// connections: returns its ID and the token the cloud delivered to it.
pub async fn register_another_dms(
    env: &Environment,
    dms_id: &str,
) -> Result<(String, String), Failure> {
    let browser = CloudClient::new(env)?;
    let cookie = cloud_login(env, &browser).await?;
    register_dms(&CloudClient::new(env)?, &browser, &cookie, dms_id).await
}

/// The connect flow of DMS `dms_id`, played over `dms`'s connections and approved in the cloud
/// Administrator's signed-in `browser` (session `cookie`): its ID and its token.
pub async fn register_dms(
    dms: &CloudClient,
    browser: &CloudClient,
    cookie: &str,
    dms_id: &str,
) -> Result<(String, String), Failure> {
    let started = dms
        .post(
            Endpoint::Connection,
            "oauth/device_authorization",
            &json!({ "client_id": "dataminer-cloud-gateway", "dms_id": dms_id }),
            None,
        )
        .await?;
    let field = |name: &str| {
        started
            .body
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let (Some(device_code), Some(user_code)) = (field("device_code"), field("user_code")) else {
        return Err(Failure::expectation(
            format!("device authorization for {dms_id}"),
            "codes",
            &started,
        ));
    };
    let approval = browser
        .post(
            Endpoint::Connection,
            "device/approve",
            &json!({ "user_code": user_code }),
            Some(cookie),
        )
        .await?;
    if approval.status != 200 {
        return Err(Failure::expectation(
            format!("approving {dms_id}"),
            "HTTP 200",
            approval,
        ));
    }
    let token = dms
        .post(
            Endpoint::Connection,
            "oauth/token",
            &json!({ "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": device_code }),
            None,
        )
        .await?;
    let access = token
        .body
        .get("access_token")
        .and_then(Value::as_str)
        .map(str::to_owned);
    access
        .map(|t| (dms_id.to_owned(), t))
        .ok_or_else(|| Failure::expectation(format!("{dms_id}'s token"), "delivered", token))
}
