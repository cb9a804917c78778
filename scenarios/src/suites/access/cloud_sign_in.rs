//! Guessing a dataminer.services account's password is bounded (SHARE-2's sign-in, DOS-1):
//! wrong passwords for one address from one source, spread over both hosts that sign people
//! in, are answered as wrong up to the spec's data's figure, then refused as too many until its
//! window has passed, the right password too (a guess is never confirmed); the account's owner
//! signs in from another machine meanwhile (one guesser locks no one out) and another address
//! from the guessing one; guesses spread over many machines meet the bound over every source;
//! once the window has passed, the right password works. And a browser is signed in only by
//! its host's own pages: a sign-in or sign-up form another site posts (login CSRF) sets no
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
    let guesser = CloudClient::new(&env)?;
    let source = |n: u8| CloudClient::from_address(&env, Some([127, 0, 0, n].into()));

    let per_source = limit.failures_per_address_and_source;
    let tries = per_source + 5;
    let mut answers = Vec::new();
    for n in 0..tries {
        let host = [Endpoint::Connection, Endpoint::Sharing][n % 2];
        answers.push(sign_in(&guesser, host, &victim.email, &format!("guess-{n:03}")).await?);
    }
    ev.saw("one source's guesses' answers (HTTP status)", &answers);
    let (wrong, too_many) = answers.split_at(per_source.min(answers.len()));
    ev.expect(
        "guesses-answered-wrong-up-to-the-bound",
        "one source's first guesses, up to the bound",
        wrong.iter().all(|s| *s == 401),
        "401 each",
        wrong,
    )?;
    ev.expect(
        "guesses-past-the-bound-refused",
        "one source's guesses past the bound",
        too_many.iter().all(|s| *s == 429),
        "429 each",
        too_many,
    )?;
    let right_here = sign_in(
        &guesser,
        Endpoint::Connection,
        &victim.email,
        &victim.password,
    )
    .await?;
    ev.expect_eq(
        "right-password-not-confirmed-while-refused",
        "the right password from the guessing source, within the window",
        429,
        right_here,
    )?;
    let elsewhere = source(2)?;
    let owner = sign_in(
        &elsewhere,
        Endpoint::Connection,
        &victim.email,
        &victim.password,
    )
    .await?;
    ev.expect_eq(
        "one-guesser-locks-no-one-out",
        "the account's owner signing in from another machine meanwhile",
        200,
        owner,
    )?;
    let other = sign_in(
        &guesser,
        Endpoint::Sharing,
        &bystander.email,
        &bystander.password,
    )
    .await?;
    ev.expect_eq(
        "another-address-still-signs-in",
        "another account's sign-in from the guessing source meanwhile",
        200,
        other,
    )?;

    // Guessing spread over many machines meets the bound over every source.
    let mut spread = Vec::new();
    // The guesser's failures count over every source too.
    let mut failed = per_source;
    let mut machine = 3u8;
    while failed < limit.failures_per_address {
        let client = source(machine)?;
        for _ in 0..per_source.min(limit.failures_per_address - failed) {
            let guess = format!("spread-{failed:03}");
            spread.push(sign_in(&client, Endpoint::Connection, &victim.email, &guess).await?);
            failed += 1;
        }
        machine = machine.saturating_add(1);
    }
    let fresh = source(250)?;
    let after_spread = sign_in(
        &fresh,
        Endpoint::Connection,
        &victim.email,
        "one-more-guess",
    )
    .await?;
    ev.saw("the spread guesses' answers (HTTP status)", &spread);
    ev.expect_eq(
        "guessing-over-many-sources-bounded",
        &format!(
            "a guess from a fresh machine once {} had failed over every source",
            limit.failures_per_address
        ),
        429,
        after_spread,
    )?;

    env.advance(Duration::from_secs(limit.window_seconds + 1))
        .await;
    let later = sign_in(
        &guesser,
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
    // Creating an account signs the browser in too: the attacker asks a code for an address
    // of its own, reads it in its own mailbox, and has the visitor's browser post the form.
    let address = "made-by-the-attacker@attacker.example";
    browser
        .post(
            Endpoint::Sharing,
            "account/create/code",
            &json!({ "email": address }),
            None,
        )
        .await?;
    let code = env
        .cloud()
        .outbox()
        .all()
        .iter()
        .rev()
        .find(|m| m.to == address)
        .and_then(|m| m.body.split("\n\n").nth(1).map(|c| c.trim().to_owned()))
        .ok_or_else(|| Failure::precondition("the sign-up code mail", "a code", address))?;
    let sign_up = [
        ("email", address),
        ("code", code.as_str()),
        ("password", "the-attackers-password"),
        ("next", "/api/shares"),
    ];
    for page in [
        "https://evil.example".to_owned(),
        env.cloud_url(Endpoint::Connection),
    ] {
        let answer = browser
            .post_form_from_page(Endpoint::Sharing, "account/create", &sign_up, None, &page)
            .await?;
        posted.push(json!({
            "host": Endpoint::Sharing.host(), "page": page, "form": "sign-up",
            "status": answer.status, "session_set": answer.set_cookie.is_some(),
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
    let own_sign_up = browser
        .post_form_from_page(
            Endpoint::Sharing,
            "account/create",
            &sign_up,
            None,
            &env.cloud_url(Endpoint::Sharing),
        )
        .await?;
    ev.expect_eq(
        "own-page-sign-in-works",
        "the hosts' own sign-in and sign-up forms: a session set by each",
        (true, true),
        (own.set_cookie.is_some(), own_sign_up.set_cookie.is_some()),
    )
}
