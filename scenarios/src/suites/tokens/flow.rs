//! FLOW-1 and FLOW-2: both logins or no token, and the token only on the agent's connection.

use std::time::Duration;

use mocks::Environment;
use mocks::cloud::Endpoint;
use serde_json::{Value, json};

use crate::clients::{CloudClient, DmaClient, DmaReply};
use crate::steps::{self, cloud_login};
use crate::{Ctx, Evidence, Failure};

/// Long enough for the agent to poll the token endpoint a few times.
const SEVERAL_POLLS: Duration = Duration::from_secs(30);

fn expect_no_token(env: &Environment, ev: &Evidence, when: &str) -> Result<(), Failure> {
    ev.expect_eq(
        "tokens-cloud-issued",
        &format!("{when}: tokens the cloud issued"),
        0,
        env.cloud().issued().len(),
    )?;
    ev.expect_eq(
        "credentials-dms-stores",
        &format!("{when}: credentials the DMS stores"),
        false,
        env.dms_credentials().stored().is_some(),
    )
}

/// The Administrator asks the DMS to connect; returns the user code the DMS shows.
async fn user_code(env: &Environment) -> Result<String, Failure> {
    let admin = DmaClient::new(env)
        .log_in(&env.accounts().dms_admin)
        .await?;
    let pairing = admin.expect_data("ConnectToCloud", json!({})).await?;
    pairing
        .get("UserCode")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            Failure::violation("connecttocloud", "ConnectToCloud", "a user code", &pairing)
        })
}

pub(super) async fn needs_both_logins(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();

    // The DMS side missing: no DMS session at all.
    let env = ctx.environment().await?;
    let reply = DmaClient::new(&env)
        .call("ConnectToCloud", json!({ "connection": "not-a-session" }))
        .await?;
    ev.expect(
        "connecttocloud-without-dms-login",
        "ConnectToCloud without a DMS login",
        matches!(reply, DmaReply::Error { .. }),
        "refused",
        &reply,
    )?;
    steps::let_time_pass(&env, SEVERAL_POLLS, 6).await;
    expect_no_token(&env, &ev, "without a DMS login")?;

    // The DMS side done, the cloud side missing or failed.
    let env = ctx.environment().await?;
    let code = user_code(&env).await?;
    let browser = CloudClient::new(&env)?;
    let anonymous = browser
        .post(
            Endpoint::Connection,
            "device/approve",
            &json!({ "user_code": code }),
            None,
        )
        .await?;
    ev.expect_eq(
        "approving-without-cloud-login-http-status",
        "approving without a cloud login: HTTP status",
        401,
        anonymous.status,
    )?;
    let cloud = &env.accounts().cloud_admin;
    let wrong = browser
        .post(
            Endpoint::Connection,
            "account/login",
            &json!({ "email": cloud.email, "password": "not-the-password" }),
            None,
        )
        .await?;
    ev.expect_eq(
        "cloud-login-wrong-password-http-status",
        "cloud login with a wrong password: HTTP status",
        401,
        wrong.status,
    )?;
    let forged = browser
        .post(
            Endpoint::Connection,
            "device/approve",
            &json!({ "user_code": code }),
            Some("dms_session=0000000000000000"),
        )
        .await?;
    ev.expect_eq(
        "approving-made-up-session-http-status",
        "approving with a made-up session: HTTP status",
        401,
        forged.status,
    )?;
    steps::let_time_pass(&env, SEVERAL_POLLS, 6).await;
    expect_no_token(&env, &ev, "without a cloud login")?;

    // Both: the token arrives (the control that shows the checks above could have failed).
    let cookie = cloud_login(&env, &browser).await?;
    let approved = browser
        .post(
            Endpoint::Connection,
            "device/approve",
            &json!({ "user_code": code }),
            Some(&cookie),
        )
        .await?;
    ev.expect_eq(
        "approving-after-both-logins-http-status",
        "approving after both logins: HTTP status",
        200,
        approved.status,
    )?;
    steps::let_time_pass(&env, SEVERAL_POLLS, 6).await;
    ev.expect_eq(
        "both-logins-tokens-cloud-issued",
        "with both logins: tokens the cloud issued",
        1,
        env.cloud().issued().len(),
    )
}

pub(super) async fn token_never_reaches_the_browser(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let browser = CloudClient::new(&env)?;
    steps::connect_dms_with(&env, &browser).await?;
    let stored = env.dms_credentials().stored().ok_or_else(|| {
        Failure::violation("dms-credentials", "the DMS's credentials", "stored", "none")
    })?;

    let shown = browser.seen();
    ev.saw("answers the browser received", shown.len());
    let leaked: Vec<&str> = [
        ("the token", &stored.access_token),
        ("the refresh key", &stored.refresh_key),
    ]
    .into_iter()
    .filter(|(_, secret)| shown.iter().any(|answer| answer.contains(secret.as_str())))
    .map(|(what, _)| what)
    .collect();
    ev.expect_eq(
        "credentials-browser-was-shown",
        "credentials the browser was shown",
        Vec::<&str>::new(),
        leaked,
    )?;

    // Where it did travel: in the cloud's answer to the DMS's own poll of the token endpoint.
    let delivered = env
        .cloud()
        .requests()
        .all()
        .into_iter()
        .filter(|r| r.path.starts_with("/oauth/token") && r.response.contains(&stored.access_token))
        .count();
    ev.expect_eq(
        "answers-dms-token-poll-carried-token",
        "answers to the DMS's token poll that carried its token",
        1,
        delivered,
    )
}
