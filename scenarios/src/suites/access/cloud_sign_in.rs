//! Guessing a dataminer.services account's password is bounded (SHARE-2's sign-in, DOS-1):
//! wrong passwords for one address, spread over both hosts that sign people in, are answered
//! as wrong up to the spec's data's figure, then refused as too many until its window has
//! passed, the right password too (a guess is never confirmed); another address signs in
//! meanwhile; once the window has passed, the right password works. And a browser is signed
//! in only by its host's own pages: a sign-in form another site posts (login CSRF) sets no
//! session. Judged on the answers.

use std::time::Duration;

use mocks::Environment;
use mocks::cloud::Endpoint;
use serde_json::json;

use crate::clients::CloudClient;
use crate::{Ctx, Failure, oracle};

/// One sign-in on `endpoint`: the status the cloud answered.
async fn sign_in(
    browser: &CloudClient,
    endpoint: Endpoint,
    email: &str,
    password: &str,
) -> Result<u16, Failure> {
    let answer = browser
        .post(
            endpoint,
            "account/login",
            &json!({ "email": email, "password": password }),
            None,
        )
        .await?;
    Ok(answer.status)
}

pub(super) async fn cloud_password_guessing_is_bounded(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let limit = oracle::spec()?.cloud_sign_in.clone();
    let env: Environment = ctx.environment().await?;
    let accounts = env.accounts().clone();
    let victim = &accounts.cloud_member;
    let bystander = &accounts.cloud_org_admin;
    let browser = CloudClient::new(&env)?;

    let tries = limit.failures_per_address + 5;
    let mut answers = Vec::new();
    for n in 0..tries {
        let host = [Endpoint::Connection, Endpoint::Sharing][n % 2];
        answers.push(sign_in(&browser, host, &victim.email, &format!("guess-{n:03}")).await?);
    }
    ev.saw("the guesses' answers (HTTP status)", &answers);
    let (wrong, too_many) = answers.split_at(limit.failures_per_address.min(answers.len()));
    ev.expect(
        "guesses-answered-wrong-up-to-the-bound",
        "the first guesses, up to the bound",
        wrong.iter().all(|s| *s == 401),
        "401 each",
        wrong,
    )?;
    ev.expect(
        "guesses-past-the-bound-refused",
        "the guesses past the bound",
        too_many.iter().all(|s| *s == 429),
        "429 each",
        too_many,
    )?;
    let right_now = sign_in(
        &browser,
        Endpoint::Connection,
        &victim.email,
        &victim.password,
    )
    .await?;
    ev.expect_eq(
        "right-password-not-confirmed-while-refused",
        "the right password, within the window",
        429,
        right_now,
    )?;
    let other = sign_in(
        &browser,
        Endpoint::Sharing,
        &bystander.email,
        &bystander.password,
    )
    .await?;
    ev.expect_eq(
        "another-address-still-signs-in",
        "another account's sign-in meanwhile",
        200,
        other,
    )?;
    env.advance(Duration::from_secs(limit.window_seconds + 1))
        .await;
    let later = sign_in(
        &browser,
        Endpoint::Connection,
        &victim.email,
        &victim.password,
    )
    .await?;
    ev.expect_eq(
        "right-password-works-after-the-window",
        "the right password once the window has passed",
        200,
        later,
    )
}

/// A page elsewhere (another site, or another dataminer.services host, where the sharing host
/// relays DMS content) posts the sign-in form with the attacker's own credentials into the
/// visitor's browser; the host's own page signs in as before.
pub(super) async fn sign_in_only_from_own_pages(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let env: Environment = ctx.environment().await?;
    let attacker = env.accounts().cloud_member.clone();
    let browser = CloudClient::new(&env)?;
    let credentials = [
        ("email", attacker.email.as_str()),
        ("password", attacker.password.as_str()),
        ("next", "/device"),
    ];
    let mut posted = Vec::new();
    for (host, page) in [
        (Endpoint::Connection, "https://evil.example".to_owned()),
        (Endpoint::Connection, env.cloud_url(Endpoint::Sharing)),
        (Endpoint::Sharing, "https://evil.example".to_owned()),
        (Endpoint::Sharing, env.cloud_url(Endpoint::Connection)),
    ] {
        let answer = browser
            .post_form_from_page(host, "account/login", &credentials, None, &page)
            .await?;
        posted.push(json!({
            "host": host.host(), "page": page, "status": answer.status,
            "session_set": answer.set_cookie.is_some(),
        }));
    }
    ev.saw("sign-in forms posted from other pages", &posted);
    let sessions: Vec<_> = posted
        .iter()
        .filter(|p| p["session_set"] == json!(true))
        .collect();
    ev.expect(
        "cross-site-sign-in-sets-no-session",
        "sign-in forms posted from another site's or host's page that set a session",
        sessions.is_empty(),
        "none",
        &sessions,
    )?;
    let own = browser
        .post_form_from_page(
            Endpoint::Connection,
            "account/login",
            &credentials,
            None,
            &env.cloud_url(Endpoint::Connection),
        )
        .await?;
    ev.expect_eq(
        "own-page-sign-in-works",
        "the connection host's own sign-in form: a session set",
        true,
        own.set_cookie.is_some(),
    )
}
