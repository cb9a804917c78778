//! Single-use secrets × concurrency (TOK-4, FLOW-3): each secret the cloud hands out for one
//! use is redeemed by `AT_ONCE` requests released together by a barrier over one warm HTTP/2
//! connection. Exactly one may win; every other must get the error the protocol names for a
//! used secret (RFC 6749 §5.2 `invalid_grant` for a refresh key and a device code, RFC 7523
//! §3 `invalid_client` for a replayed assertion, the sign-up form's `invalid_code`, and a
//! refusal of the approval form).

use std::sync::Arc;

use futures_util::future::BoxFuture;
use mocks::Environment;
use mocks::cloud::Endpoint;
use serde_json::json;
use tokio::sync::Barrier;

use super::enrol::enrol;
use crate::clients::{ASSERTION_TYPE, CloudClient, Reply, ScriptedDms, ShareRecipient};
use crate::{Ctx, Failure, steps};

const DIMENSION: &str = "single-use secrets × concurrent redemptions";

/// Redemptions of one secret under way together.
const AT_ONCE: usize = 8;

/// What one redemption attempt is.
type Attempt = Arc<dyn Fn() -> BoxFuture<'static, Result<Reply, Failure>> + Send + Sync>;

/// Runs `AT_ONCE` copies of `attempt`, each released by one barrier.
async fn together(attempt: Attempt) -> Result<Vec<Reply>, Failure> {
    let barrier = Arc::new(Barrier::new(AT_ONCE));
    let mut tasks = Vec::new();
    for _ in 0..AT_ONCE {
        let (barrier, attempt) = (barrier.clone(), attempt.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            attempt().await
        }));
    }
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(
            task.await
                .map_err(|e| Failure::Harness(format!("a redemption task failed: {e}")))??,
        );
    }
    Ok(replies)
}

/// What the sweep saw of one secret: how many won, and the answers of the others that were not
/// the protocol's error for a used secret.
struct Tally {
    secret: &'static str,
    won: usize,
    wrong_errors: Vec<(u16, String)>,
}

fn tally(
    secret: &'static str,
    replies: &[Reply],
    won: impl Fn(&Reply) -> bool,
    spent: impl Fn(&Reply) -> bool,
) -> Tally {
    let won_count = replies.iter().filter(|r| won(r)).count();
    let wrong_errors = replies
        .iter()
        .filter(|r| !won(r) && !spent(r))
        .map(|r| {
            (
                r.status,
                r.error()
                    .unwrap_or_else(|| r.text.chars().take(80).collect()),
            )
        })
        .collect();
    Tally {
        secret,
        won: won_count,
        wrong_errors,
    }
}

fn oauth_error(reply: &Reply, status: u16, error: &str) -> bool {
    reply.status == status && reply.error().as_deref() == Some(error)
}

fn has_token(reply: &Reply) -> bool {
    reply.status == 200 && reply.field("access_token").is_some()
}

/// A client whose HTTP/2 connection to the connection host is open already, so the requests
/// released together are streams of one connection.
async fn warm(env: &Environment) -> Result<CloudClient, Failure> {
    let client = CloudClient::new(env)?;
    client.open(Endpoint::Connection, "device", None).await?;
    Ok(client)
}

pub(super) async fn every_single_use_secret_wins_once(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = env.accounts().cloud_admin.clone();
    let mut tallies = Vec::new();

    // A refresh key.
    // The played DMS's own client: its connection is warm from the connect flow.
    let played = enrol(&env, "dms-sweep-refresh", &admin).await?;
    let dms = played.dms.clone();
    let key = played.refresh_key.clone();
    let replies = together(Arc::new(move || {
        let (dms, key) = (dms.clone(), key.clone());
        Box::pin(async move { dms.refresh(&key).await })
    }))
    .await?;
    tallies.push(tally("refresh key", &replies, has_token, |r| {
        oauth_error(r, 400, "invalid_grant")
    }));

    // A device code, approved and then polled together.
    let client = warm(&env).await?;
    let dms = ScriptedDms::new(&client, "dms-sweep-device-code")?;
    let started = dms.started().await?;
    let browser = CloudClient::new(&env)?;
    let cookie = steps::sign_in(&browser, &admin).await?;
    let approval =
        steps::approve_on_page(&browser, Some(&cookie), &started.user_code, &dms.id).await?;
    if approval.answer.status != 200 {
        return Err(Failure::precondition(
            "approving dms-sweep-device-code",
            "HTTP 200",
            approval.answer.status,
        ));
    }
    let code = started.device_code.clone();
    // A cloud that checks a secret and spends it after a store round trip lets every one of
    // the redemptions check first: it is told to expect them all there, so the race is taken
    // every time (a cloud that spends under one lock never waits).
    env.cloud().redemptions().expect(AT_ONCE);
    let replies = together(Arc::new(move || {
        let (dms, code) = (dms.clone(), code.clone());
        Box::pin(async move { dms.redeem(&code).await })
    }))
    .await;
    env.cloud().redemptions().clear();
    let replies = replies?;
    tallies.push(tally("device code", &replies, has_token, |r| {
        oauth_error(r, 400, "invalid_grant")
    }));

    // The approval page's ticket for one user code: the same form sent together.
    let browser = warm(&env).await?;
    let cookie = steps::sign_in(&browser, &admin).await?;
    let dms = ScriptedDms::new(&browser, "dms-sweep-ticket")?;
    let started = dms.started().await?;
    let user_code: String = form_urlencoded::byte_serialize(started.user_code.as_bytes()).collect();
    let page = browser
        .open(
            Endpoint::Connection,
            &format!("device?user_code={user_code}"),
            Some(&cookie),
        )
        .await?;
    let ticket = steps::hidden_input(&page.text, "ticket").ok_or_else(|| {
        Failure::precondition("the approval page", "a ticket in its form", page.status)
    })?;
    let form = (started.user_code.clone(), ticket, dms.id.clone(), cookie);
    let replies = together(Arc::new(move || {
        let (browser, (user_code, ticket, dms_id, cookie)) = (browser.clone(), form.clone());
        Box::pin(async move {
            browser
                .post_form(
                    Endpoint::Connection,
                    "device/approve",
                    &[
                        ("user_code", &user_code),
                        ("ticket", &ticket),
                        ("confirm_dms_id", &dms_id),
                        ("action", "approve"),
                    ],
                    Some(&cookie),
                )
                .await
        })
    }))
    .await?;
    tallies.push(tally(
        "approval ticket and user code",
        &replies,
        |r| r.status == 200,
        |r| (400..500).contains(&r.status),
    ));

    // A client assertion (its jti): the same signed assertion on a device authorization.
    let client = warm(&env).await?;
    let dms = ScriptedDms::new(&client, "dms-sweep-jti")?;
    let assertion = dms.assertion()?;
    let organization = admin.organization.clone();
    let replies = together(Arc::new(move || {
        let (client, dms, assertion, organization) = (
            client.clone(),
            dms.clone(),
            assertion.clone(),
            organization.clone(),
        );
        Box::pin(async move {
            client
                .post_form(
                    Endpoint::Connection,
                    "oauth/device_authorization",
                    &[
                        ("client_id", dms.id.as_str()),
                        ("client_assertion_type", ASSERTION_TYPE),
                        ("client_assertion", &assertion),
                        ("dms_name", &dms.name),
                        ("organization", &organization),
                        ("jwk", dms.jwk()),
                    ],
                    None,
                )
                .await
        })
    }))
    .await?;
    tallies.push(tally(
        "client assertion jti",
        &replies,
        |r| r.status == 200 && r.field("device_code").is_some(),
        |r| matches!(r.status, 400 | 401) && r.error().as_deref() == Some("invalid_client"),
    ));

    // A sign-up code mailed to a new address.
    let email = "sweep-newcomer@recipient.example";
    let code = ShareRecipient::new(&env)?.request_code(&env, email).await?;
    let client = CloudClient::new(&env)?;
    client
        .open(Endpoint::Sharing, "account/create", None)
        .await?;
    env.cloud().redemptions().expect(AT_ONCE);
    let replies = together(Arc::new(move || {
        let (client, code) = (client.clone(), code.clone());
        Box::pin(async move {
            client
                .post(
                    Endpoint::Sharing,
                    "account/create",
                    &json!({ "email": email, "code": code, "password": "a-long-enough-password" }),
                    None,
                )
                .await
        })
    }))
    .await;
    env.cloud().redemptions().clear();
    let replies = replies?;
    tallies.push(tally(
        "sign-up code",
        &replies,
        |r| r.status == 201,
        |r| oauth_error(r, 401, "invalid_code"),
    ));

    let mut broken = Vec::new();
    for t in &tallies {
        let fine = t.won == 1 && t.wrong_errors.is_empty();
        ev.row(
            DIMENSION,
            t.secret,
            format!("{AT_ONCE} redemptions at once"),
            if fine {
                format!("1 won, {} refused as used", AT_ONCE - 1)
            } else {
                format!(
                    "{} WON; other answers not the spec's error: {:?}",
                    t.won, t.wrong_errors
                )
            },
        );
        if !fine {
            broken.push(format!(
                "{}: {} won, others {:?}",
                t.secret, t.won, t.wrong_errors
            ));
        }
    }
    ev.expect_eq(
        "exactly-one-concurrent-redemption-wins",
        "secrets that more or fewer than one of the concurrent redemptions won, or whose losers got another answer than the spec's",
        Vec::<String>::new(),
        broken,
    )
}
