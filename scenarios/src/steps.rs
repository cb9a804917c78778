//! Steps that several scenarios take, each as a person would take it.

use std::time::Duration;

use mocks::Environment;
use mocks::cloud::{Account, Endpoint, FirstFlight};
use serde_json::{Value, json};

use crate::Failure;
use crate::clients::{CloudClient, DmaClient, DmaReply, DmaSession, Reply, ScriptedDms};

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
            Failure::precondition("ConnectToCloud", "a user code to approve", &pairing)
        })?;

    let cookie = cloud_login(env, browser).await?;
    let approval = approve_on_page(browser, Some(&cookie), user_code, &accounts.dms_id).await?;
    if approval.answer.status != 200 {
        return Err(Failure::precondition(
            "approving the DMS on the verification page",
            "HTTP 200 at the end of the redirects",
            approval.answer,
        ));
    }

    env.advance(POLL_INTERVAL).await;
    tunnels_up(env).await?;
    Ok(admin)
}

/// After the agent acted on the clock: the tunnels the DMS holds open (counted on its own
/// sockets) are live and take streams on the cloud. A precondition of every scenario that
/// sends streams; how many tunnels there should be is for the scenarios that judge it.
///
/// Right after a renewal the old tunnels are still closing, and each side sees a close at its
/// own moment (later still through a proxy), so the two counts are compared until they agree,
/// each time as they are then, never against a count read once.
pub async fn tunnels_up(env: &Environment) -> Result<usize, Failure> {
    let spec = crate::oracle::spec()?;
    let dms_id = &env.accounts().dms_id;
    let open = || usize::try_from(env.dms_egress().to(&spec.hosts.tunnel).open).unwrap_or(0);
    let tunnels = env.cloud().tunnels();
    let deadline = tokio::time::Instant::now() + PROMPTLY;
    loop {
        let dialled = open();
        // The agent dials once it holds its token, on tasks of its own: the sockets may come
        // a moment after the clock advance that gave it the token.
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if dialled == 0
            && !left.is_zero()
            && env
                .dms_egress()
                .wait_any_open(&spec.hosts.tunnel, left)
                .await
        {
            continue;
        }
        if dialled == 0 {
            return Err(Failure::precondition(
                "the DMS's tunnels after the approval",
                "at least one connection open to the tunnel endpoint",
                env.cloud().tunnels().events(),
            ));
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Err(Failure::timeout(
                format!(
                    "the cloud to hold the {dialled} tunnels the DMS holds open, ready for streams"
                ),
                PROMPTLY,
            ));
        }
        // A short look: if the DMS's count moves meanwhile, the next round reads it anew.
        let look = left.min(AGREE_LOOK);
        if tunnels.wait_live(dms_id, dialled, look).await
            && tunnels.wait_ready(dms_id, dialled, look).await
            && open() == dialled
        {
            return Ok(dialled);
        }
    }
}

/// How long `tunnels_up` waits for the cloud to agree with one reading of the DMS's count.
const AGREE_LOOK: std::time::Duration = std::time::Duration::from_millis(250);

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

/// The Administrator logs in to the DMS and asks it to connect; the user code the DMS shows.
pub async fn dms_user_code(env: &Environment) -> Result<String, Failure> {
    let admin = DmaClient::new(env)
        .log_in(&env.accounts().dms_admin)
        .await?;
    let pairing = admin.expect_data("ConnectToCloud", json!({})).await?;
    user_code_of(&pairing)
}

/// The user code in the DMA's answer to `ConnectToCloud`; a precondition failure without one.
pub fn user_code_of(pairing: &Value) -> Result<String, Failure> {
    pairing
        .get("UserCode")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Failure::precondition("ConnectToCloud", "a user code", pairing))
}

/// How many of the cloud's answers on its token endpoint (RFC 8628 §3.4, RFC 6749 §3.2)
/// carried an access token: what crossed the wire to whoever polled, as the cloud's request
/// record keeps it.
pub fn tokens_delivered(env: &Environment) -> usize {
    env.cloud()
        .requests()
        .all()
        .iter()
        .filter(|r| r.path.starts_with("/oauth/token") && r.response.contains("\"access_token\""))
        .count()
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
    sign_in(browser, &env.accounts().cloud_admin).await
}

/// `account`'s owner signs in to dataminer.services in `browser`; returns the session cookie.
pub async fn sign_in(browser: &CloudClient, account: &Account) -> Result<String, Failure> {
    let login = browser
        .post(
            Endpoint::Connection,
            "account/login",
            &json!({ "email": account.email, "password": account.password }),
            None,
        )
        .await?;
    login.set_cookie.clone().ok_or_else(|| {
        Failure::precondition(
            format!("cloud login of {}", account.email),
            "a session cookie",
            &login,
        )
    })
}

/// The Owner (signed in as `cookie`) sets `account`'s role in the organisation's admin API;
/// returns the HTTP status.
pub async fn set_role(
    browser: &CloudClient,
    cookie: &str,
    account: &Account,
    role: &str,
) -> Result<u16, Failure> {
    let answer = browser
        .post(
            Endpoint::Connection,
            "api/org/members/role",
            &json!({ "email": account.email, "role": role }),
            Some(cookie),
        )
        .await?;
    Ok(answer.status)
}

/// `admin` signs in and sets who may reach the environment's DMS remotely to exactly
/// `accounts` (none: off), through the organisation's admin API; the cloud's answer.
pub async fn enable_remote_access(
    env: &Environment,
    admin: &Account,
    accounts: &[&Account],
) -> Result<Reply, Failure> {
    set_remote_access(env, admin, &env.accounts().dms_id, accounts).await
}

/// `admin` signs in and sets who may reach DMS `dms_id` remotely to exactly `accounts`.
pub async fn set_remote_access(
    env: &Environment,
    admin: &Account,
    dms_id: &str,
    accounts: &[&Account],
) -> Result<Reply, Failure> {
    let browser = CloudClient::new(env)?;
    let cookie = sign_in(&browser, admin).await?;
    let emails: Vec<&str> = accounts.iter().map(|a| a.email.as_str()).collect();
    browser
        .post(
            Endpoint::Connection,
            "api/org/remote-access",
            &json!({ "dms_id": dms_id, "accounts": emails.join(",") }),
            Some(&cookie),
        )
        .await
}

/// What a person saw and got on the verification page: the page of the user code, and the
/// answer to the approval form (after its redirects).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PageApproval {
    pub page: Reply,
    pub answer: Reply,
}

/// A person in `browser` (signed in with `cookie`, or not) opens the verification page of
/// `user_code`, types `confirm` as the DMS ID and presses Approve: the form is sent with
/// whatever the page gave (its ticket), as a browser sends it.
pub async fn approve_on_page(
    browser: &CloudClient,
    cookie: Option<&str>,
    user_code: &str,
    confirm: &str,
) -> Result<PageApproval, Failure> {
    let code: String = form_urlencoded::byte_serialize(user_code.as_bytes()).collect();
    let path = format!("device?user_code={code}");
    let page = browser.open(Endpoint::Connection, &path, cookie).await?;
    let ticket = hidden_input(&page.text, "ticket").unwrap_or_default();
    let answer = browser
        .post_form(
            Endpoint::Connection,
            "device/approve",
            &[
                ("user_code", user_code),
                ("ticket", &ticket),
                ("confirm_dms_id", confirm),
                ("action", "approve"),
            ],
            cookie,
        )
        .await?;
    Ok(PageApproval { page, answer })
}

/// The value of the hidden input `name` of an HTML form, as a browser would send it: read
/// here, by the scenario, from the page as it came.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    html.split("<input").skip(1).find_map(|tag| {
        let tag = tag.split('>').next()?;
        let attribute = |attr: &str| {
            let at = tag.find(&format!("{attr}=\""))? + attr.len() + 2;
            tag[at..].split('"').next().map(unescape)
        };
        (attribute("type").as_deref() == Some("hidden")
            && attribute("name").as_deref() == Some(name))
        .then(|| attribute("value"))
        .flatten()
    })
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
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

/// The connect flow of DMS `dms_id` (a key pair of its own), played over `dms`'s connections
/// and approved on the verification page in the cloud Administrator's signed-in `browser`
/// (session `cookie`): its ID and its token.
pub async fn register_dms(
    dms: &CloudClient,
    browser: &CloudClient,
    cookie: &str,
    dms_id: &str,
) -> Result<(String, String), Failure> {
    let scripted = ScriptedDms::new(dms, dms_id)?;
    let started = scripted.started().await?;
    let approval = approve_on_page(browser, Some(cookie), &started.user_code, dms_id).await?;
    if approval.answer.status != 200 {
        return Err(Failure::precondition(
            format!("approving {dms_id}"),
            "HTTP 200",
            approval.answer,
        ));
    }
    let token = scripted.redeem(&started.device_code).await?;
    token
        .field("access_token")
        .map(|t| (dms_id.to_owned(), t))
        .ok_or_else(|| Failure::precondition(format!("{dms_id}'s token"), "delivered", token))
}
