//! Remote access gets no share's session: an account with remote access that adds the headers
//! the DMS's side trusts when the cloud or its Cloud Gateway sets them (a share and a viewer; a
//! share's session and the gateway's key) is handled as its own remote session only. Judged by
//! what the far side saw: the calls the DMA carried out, and the WAF's decisions.

use fixtures::Dashboard;
use serde_json::{Map, Value, json};

use super::support::{connection_of, owner_enables, share_with_outsider, sign_in};
use crate::steps::Recipient;
use crate::{Ctx, Failure};

/// The dashboard shared (one of the fixtures'): its calls are on the share's whitelist.
const DASHBOARD: &str = "core-network";

/// The headers the Cloud Gateway trusts on a tunnel stream, and the WAF from the gateway, as
/// the design names them; written here, not taken from the code under test.
const SHARE: &str = "x-dataminer-share";
const VIEWER: &str = "x-dataminer-viewer";
const SHARE_SESSION: &str = "x-dataminer-share-session";
const GATEWAY_KEY: &str = "x-dataminer-gateway-key";

pub(super) async fn no_share_session_through_remote_access(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let env = ctx.environment().await?;
    let (share_id, share_login) = share_with_outsider(&env, DASHBOARD).await?;
    let accounts = env.accounts().clone();
    let dms = accounts.dms_id.clone();
    owner_enables(&env, &dms, &[&accounts.cloud_member]).await?;
    let a = Recipient::signed_in_as(&env, &accounts.cloud_member).await?;
    let operator = &accounts.dms_operator;
    let (_, answer) = sign_in(&a, &dms, &operator.login, &operator.password).await?;
    let own = connection_of(&answer).ok_or_else(|| {
        Failure::precondition("the Operator's remote sign-in", "a connection", &answer)
    })?;
    // The most a forger could present: a live session of the share's user, as the Cloud
    // Gateway opens one.
    let share_session = share_users_session(&env, &share_id).await?;
    let dashboard = Dashboard::load(DASHBOARD).map_err(|e| Failure::Harness(e.to_string()))?;
    let calls: Vec<(String, Map<String, Value>)> = dashboard
        .calls()
        .map(|c| (c.method.clone(), c.parameters.clone()))
        .collect();

    let named = [(SHARE, share_id.as_str()), (VIEWER, "remote-viewer")];
    let forged = [
        (SHARE_SESSION, share_session.as_str()),
        (GATEWAY_KEY, "forged-gateway-key"),
    ];
    let attempts: [(&str, &[(&str, &str)]); 2] = [
        ("the share and a viewer named", &named),
        ("a share session and a gateway key forged", &forged),
    ];
    let executed_from = env.dma().executed().len();
    let decided_from = env.waf().decisions().all().len();
    let mut sent = Vec::new();
    for (what, headers) in attempts {
        for (method, parameters) in &calls {
            // Without a connection (the share's session would be the call's) and with the
            // account's own.
            for own_connection in [false, true] {
                let mut body = Value::Object(parameters.clone());
                if own_connection {
                    body["connection"] = Value::from(own.as_str());
                }
                let (status, _) = a.call_json_with(&dms, method, &body, headers).await?;
                sent.push((what, method.as_str(), own_connection, status));
            }
        }
    }
    let executed = env.dma().executed().since(executed_from);
    let decisions: Vec<_> = env
        .waf()
        .decisions()
        .all()
        .into_iter()
        .skip(decided_from)
        .collect();
    let answers: Vec<Value> = sent
        .iter()
        .map(|(what, method, own_connection, status)| {
            json!({ "headers": what, "method": method, "own_connection": own_connection, "status": status })
        })
        .collect();
    ev.saw(
        "the remote-access account's requests and their answers",
        &answers,
    );

    let as_share: Vec<_> = executed
        .iter()
        .filter(|c| {
            c.share.as_deref() == Some(share_id.as_str())
                || c.login.eq_ignore_ascii_case(&share_login)
        })
        .collect();
    ev.expect(
        "no-share-session-through-remote-access",
        "calls the DMA carried out as the share's user (sign-ins included) while the remote-access account sent the share's trusted headers",
        as_share.is_empty(),
        "none",
        &as_share,
    )?;
    let tied: Vec<_> = decisions
        .iter()
        .filter(|d| d.share.as_deref() == Some(share_id.as_str()))
        .collect();
    ev.expect(
        "waf-tied-nothing-to-the-share",
        "the WAF's decisions on those requests that tied one to the share",
        tied.is_empty(),
        "none",
        &tied,
    )?;
    // Its own session: every call naming the account's connection ran once, as the Operator,
    // on that connection; nothing else ran.
    let with_own = sent.iter().filter(|s| s.2).count();
    let as_own = executed
        .iter()
        .filter(|c| c.connection == own && c.login.eq_ignore_ascii_case(&operator.login))
        .count();
    ev.expect_eq(
        "handled-as-its-own-remote-session",
        "calls the DMA carried out on the account's own remote session, and in all",
        (with_own, with_own),
        (as_own, executed.len()),
    )?;
    let unbound: Vec<u16> = sent.iter().filter(|s| !s.2).map(|s| s.3).collect();
    ev.expect_eq(
        "calls-without-its-session-refused",
        "the calls naming no connection, answered 403 (tied to no session, the WAF fails closed)",
        vec![403; unbound.len()],
        unbound,
    )
}

/// `ConnectApp` as the share's user, as the Cloud Gateway signs it in (through the WAF, with
/// the gateway's key): the session opened.
async fn share_users_session(env: &mocks::Environment, share_id: &str) -> Result<String, Failure> {
    let (login, password) = env.dma().gateway_credentials(share_id).ok_or_else(|| {
        Failure::precondition("the share user's credentials", "the DMS's", share_id)
    })?;
    let (name, key) = env.dma().gateway_key().header();
    let url = format!("http://{}/API/v1/Json.asmx/ConnectApp", env.waf().addr());
    let body = json!({
        "host": "", "login": login, "password": password,
        "clientAppName": "Cloud Gateway", "clientAppVersion": "1", "clientComputerName": "gateway",
    });
    let http = crate::clients::http()
        .build()
        .map_err(|e| Failure::Harness(format!("cannot build a client: {e}")))?;
    let answer: Value = http
        .post(url)
        .header(name, key)
        .json(&body)
        .send()
        .await
        .map_err(|e| Failure::precondition("the gateway's sign-in", "an answer", e.to_string()))?
        .json()
        .await
        .unwrap_or(Value::Null);
    connection_of(&answer)
        .ok_or_else(|| Failure::precondition("the share user's sign-in", "a connection", &answer))
}
