//! FLOW-1 and FLOW-2: both logins or no token, and the token only on the agent's connection.

use std::time::Duration;

use mocks::Environment;
use mocks::cloud::Endpoint;
use serde_json::json;

use super::leaks::{self, Secret};
use crate::clients::{CloudClient, DmaClient, DmaReply};
use crate::steps::{self, cloud_login};
use crate::{Ctx, Evidence, Failure, oracle};

/// Long enough for the agent to poll the token endpoint a few times.
const SEVERAL_POLLS: Duration = Duration::from_secs(30);

/// The token path of the cloud's OAuth endpoints (RFC 8628 §3.4, RFC 6749 §3.2).
const TOKEN_PATH: &str = "/oauth/token";

/// Checks, on what crossed the wire first, that no token came of the attempts `when` names.
fn expect_no_token(
    env: &Environment,
    ev: &Evidence,
    checks: [crate::Check; 3],
    when: &str,
) -> Result<(), Failure> {
    let [delivered, stored, issued] = checks;
    ev.expect_eq(
        delivered,
        &format!("{when}: token answers the cloud sent"),
        0,
        steps::tokens_delivered(env),
    )?;
    ev.expect_eq(
        stored,
        &format!("{when}: credentials the DMS stores"),
        false,
        env.dms_credentials().stored().is_some(),
    )?;
    ev.expect_eq(
        issued,
        &format!("{when}: tokens on the cloud's record of issue"),
        0,
        env.cloud().issued().len(),
    )
}

pub(super) async fn needs_both_logins(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();

    // The DMS side missing: no DMS session at all.
    let env = ctx.environment().await?;
    let reply = DmaClient::new(&env)
        .call("ConnectToCloud", json!({ "connection": "not-a-session" }))
        .await?;
    steps::let_time_pass(&env, SEVERAL_POLLS, 6).await;
    expect_no_token(
        &env,
        &ev,
        [
            "no-token-delivered-without-dms-login",
            "no-credentials-without-dms-login",
            "no-token-issued-without-dms-login",
        ],
        "without a DMS login",
    )?;
    ev.expect(
        "connect-refused-without-dms-login",
        "ConnectToCloud without a DMS login",
        matches!(reply, DmaReply::Error { .. }),
        "refused",
        &reply,
    )?;

    // The DMS side done, the cloud side missing or failed.
    let env = ctx.environment().await?;
    let code = steps::dms_user_code(&env).await?;
    let dms_id = env.accounts().dms_id.clone();
    let browser = CloudClient::new(&env)?;
    let anonymous = steps::approve_on_page(&browser, None, &code, &dms_id).await?;
    let cloud = &env.accounts().cloud_admin;
    let wrong = browser
        .post(
            Endpoint::Connection,
            "account/login",
            &json!({ "email": cloud.email, "password": "not-the-password" }),
            None,
        )
        .await?;
    let forged = steps::approve_on_page(
        &browser,
        Some("__Host-dms_session=0000000000000000; dms_session=0000000000000000"),
        &code,
        &dms_id,
    )
    .await?;
    // What the cloud then handed out judges the attempts; their answers come after.
    steps::let_time_pass(&env, SEVERAL_POLLS, 6).await;
    expect_no_token(
        &env,
        &ev,
        [
            "no-token-delivered-without-cloud-login",
            "no-credentials-without-cloud-login",
            "no-token-issued-without-cloud-login",
        ],
        "without a cloud login",
    )?;
    ev.expect_eq(
        "approval-refused-without-cloud-login",
        "approving without a cloud login: HTTP status",
        401,
        anonymous.answer.status,
    )?;
    ev.expect_eq(
        "cloud-login-refused-wrong-password",
        "cloud login with a wrong password: HTTP status",
        401,
        wrong.status,
    )?;
    ev.expect_eq(
        "approval-refused-made-up-session",
        "approving with a made-up session: HTTP status",
        401,
        forged.answer.status,
    )?;

    // Both: the token arrives (the control that shows the checks above could have failed).
    let cookie = cloud_login(&env, &browser).await?;
    let approved = steps::approve_on_page(&browser, Some(&cookie), &code, &dms_id).await?;
    ev.expect_eq(
        "approval-after-both-logins",
        "approving after both logins: HTTP status at the end of the redirects",
        200,
        approved.answer.status,
    )?;
    steps::let_time_pass(&env, SEVERAL_POLLS, 6).await;
    ev.expect_eq(
        "token-delivered-after-both-logins",
        "with both logins: token answers the cloud sent",
        1,
        steps::tokens_delivered(&env),
    )
}

pub(super) async fn token_never_reaches_the_browser(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let browser = CloudClient::new(&env)?;

    // The connect flow, played here so every answer the Administrator got is at hand: the
    // DMS's (ConnectToCloud, its state) and the cloud's to the browser, each redirect hop
    // on its own.
    let admin = DmaClient::new(&env)
        .log_in(&env.accounts().dms_admin)
        .await?;
    let pairing = admin.call("ConnectToCloud", json!({})).await?;
    let DmaReply::Data(pairing_data) = &pairing else {
        return Err(Failure::precondition(
            "ConnectToCloud",
            "a user code",
            pairing,
        ));
    };
    let code = steps::user_code_of(pairing_data)?;
    let cookie = cloud_login(&env, &browser).await?;
    let dms_id = &env.accounts().dms_id;
    let approval = steps::approve_on_page(&browser, Some(&cookie), &code, dms_id).await?;
    if approval.answer.status != 200 {
        return Err(Failure::precondition(
            "approving the DMS",
            "HTTP 200 at the end of the redirects",
            approval.answer,
        ));
    }
    steps::let_time_pass(&env, SEVERAL_POLLS, 6).await;
    steps::tunnels_up(&env).await?;
    let state = admin.call("GetCloudConnectionState", json!({})).await?;
    let stored = env
        .dms_credentials()
        .stored()
        .ok_or_else(|| Failure::precondition("the connect flow", "credentials stored", "none"))?;

    let hops = browser.seen();
    let mut places: Vec<(String, Vec<u8>)> = hops
        .iter()
        .enumerate()
        .map(|(n, hop)| {
            (
                format!(
                    "browser hop {} ({} {} -> {})",
                    n + 1,
                    hop.method,
                    hop.url,
                    hop.status
                ),
                hop.text().into_bytes(),
            )
        })
        .collect();
    for (what, reply) in [
        ("ConnectToCloud", &pairing),
        ("GetCloudConnectionState", &state),
    ] {
        let text = serde_json::to_string(reply).unwrap_or_default();
        places.push((format!("the DMS's answer to {what}"), text.into_bytes()));
    }
    ev.saw(
        "answers the Administrator received (browser hops, DMS answers)",
        places.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
    );
    let leaked = leaks::findings(
        &places,
        &[
            Secret::new("the token", stored.access_token.clone()),
            Secret::new("the refresh key", stored.refresh_key.clone()),
        ],
    );
    ev.expect_eq(
        "credentials-never-shown-to-administrator",
        "where the Administrator was shown the DMS's credentials",
        Vec::<String>::new(),
        leaked,
    )?;

    // Where it did travel: in the cloud's answer to the DMS's own poll, on the DMS's own
    // connection (the connection endpoint, from one of the DMS's sockets).
    let delivered = env
        .cloud()
        .requests()
        .all()
        .into_iter()
        .filter(|r| r.path.starts_with(TOKEN_PATH) && r.response.contains(&stored.access_token))
        .count();
    ev.expect_eq(
        "token-delivered-on-dms-poll",
        "answers to the DMS's token poll that carried its token",
        1,
        delivered,
    )?;
    ev.expect(
        "dms-polled-the-connection-endpoint",
        "connections the DMS opened to the connection endpoint",
        env.dms_egress().to(&spec.hosts.connection).connections > 0,
        "at least one",
        env.dms_egress().to(&spec.hosts.connection),
    )
}
