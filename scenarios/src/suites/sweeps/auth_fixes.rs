//! Three small things of the cloud's authentication, each judged on the wire: the bearer
//! scheme is read without regard to case (RFC 7235 §2.1), a sign-up code request does not tell
//! which addresses have an account (the owner is mailed instead), and a sign-out ends the
//! session on the cloud, not only in the browser.

use mocks::Environment;
use mocks::cloud::Endpoint;
use serde_json::{Value, json};

use crate::clients::{CloudClient, ShareRecipient, Viewer};
use crate::suites::sharing::live;
use crate::{Ctx, Failure, steps};

/// The DMS's stored token, after the connect flow.
fn token_of(env: &Environment) -> Result<String, Failure> {
    env.dms_credentials()
        .stored()
        .map(|c| c.access_token)
        .ok_or_else(|| Failure::precondition("the connect flow", "credentials stored", "none"))
}

pub(super) async fn bearer_scheme_is_case_insensitive(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let env = ctx.environment().await?;
    steps::connect_dms(&env).await?;
    let token = token_of(&env)?;
    let client = CloudClient::new(&env)?;
    let mut statuses = Vec::new();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR", "Basic"] {
        let status = client
            .get_with_authorization(
                Endpoint::Connection,
                "api/dms/self",
                &format!("{scheme} {token}"),
            )
            .await?
            .status;
        statuses.push((scheme, status));
    }
    ev.saw(
        "the DMS's own token on /api/dms/self, per scheme",
        &statuses,
    );
    // The control: the token itself is good, and another scheme is no bearer token.
    if statuses.first().map(|(_, s)| *s) != Some(200) {
        return Err(Failure::precondition(
            "the DMS's token as `Bearer`",
            "HTTP 200",
            &statuses,
        ));
    }
    ev.expect_eq(
        "bearer-scheme-case-insensitive",
        "HTTP statuses for Bearer, bearer, BEARER, bEaReR and Basic",
        vec![200, 200, 200, 200, 401],
        statuses.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
    )
}

/// The parts of a code request's answer that could tell the two addresses apart: the status
/// and the JSON body's member names (the address echoed back is each one's own).
fn shape(reply: &crate::clients::Reply) -> (u16, Vec<String>) {
    let names = match &reply.body {
        Value::Object(map) => map.keys().cloned().collect(),
        other => vec![other.to_string()],
    };
    (reply.status, names)
}

pub(super) async fn sign_up_tells_no_one_who_has_an_account(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let env = ctx.environment().await?;
    let existing = env.accounts().cloud_outsider.email.clone();
    let newcomer = format!("new-{}@recipient.example", mocks::world::random_token(4));
    let client = CloudClient::new(&env)?;
    let outbox = env.cloud().outbox();
    let mut answers = Vec::new();
    let mut mailed = Vec::new();
    for email in [&existing, &newcomer] {
        let before = outbox.to(email).len();
        let reply = client
            .post(
                Endpoint::Sharing,
                "account/create/code",
                &json!({ "email": email }),
                None,
            )
            .await?;
        answers.push(shape(&reply));
        mailed.push(outbox.to(email).len() - before);
    }
    ev.saw(
        "status and member names of the answers: an address with an account, a new one",
        &answers,
    );
    ev.saw("mails each address got", &mailed);
    if answers[1].0 != 200 || mailed[1] != 1 {
        return Err(Failure::precondition(
            "a code for a new address",
            "HTTP 200 and one mail",
            (&answers[1], mailed[1]),
        ));
    }
    ev.expect_eq(
        "sign-up-answer-same-for-existing-address",
        "the answer for an address with an account, as the one for a new address",
        answers[1].clone(),
        answers[0].clone(),
    )?;
    // The owner is told instead (and nothing redeemable is in the mail: no account to create).
    ev.expect_eq(
        "existing-owner-mailed-instead",
        "mails the address with an account got",
        1,
        mailed[0],
    )
}

/// What the cloud answers `cookie` on the signed-in account's share list.
async fn shares_status(browser: &CloudClient, cookie: &str) -> Result<u16, Failure> {
    Ok(browser
        .open(Endpoint::Sharing, "api/shares", Some(cookie))
        .await?
        .status)
}

pub(super) async fn sign_out_ends_the_session_on_the_cloud(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let env = ctx.environment().await?;
    let browser = CloudClient::new(&env)?;
    let mut statuses = Vec::new();
    for endpoint in [Endpoint::Connection, Endpoint::Sharing] {
        let cookie = steps::sign_in(&browser, &env.accounts().cloud_outsider).await?;
        let before = shares_status(&browser, &cookie).await?;
        if before != 200 {
            return Err(Failure::precondition(
                "a signed-in account's share list",
                "HTTP 200",
                before,
            ));
        }
        let out = browser
            .post(endpoint, "account/logout", &json!({}), Some(&cookie))
            .await?;
        // The cookie as a thief copied it before the sign-out.
        let after = shares_status(&browser, &cookie).await?;
        statuses.push((format!("{endpoint:?}"), out.status, after));
    }
    ev.saw(
        "per host: the sign-out's status, then the copied cookie's on /api/shares",
        &statuses,
    );
    ev.expect_eq(
        "signed-out-cookie-refused",
        "the sign-out's status and the copied cookie's afterwards, per host",
        vec![(200, 401), (200, 401)],
        statuses
            .iter()
            .map(|(_, o, a)| (*o, *a))
            .collect::<Vec<_>>(),
    )?;

    // A shared dashboard open in the browser: signing out ends its viewer too, even once the
    // same account signs in again in that browser.
    let admin = live::connected(&env).await?;
    let (partner, mut recipient) = live::partner(&env).await?;
    let shared = live::share(
        &env,
        &admin,
        "core-network",
        &[&partner],
        json!({ "message": "Open while signing out." }),
    )
    .await?;
    let page = recipient.open(shared.link_for(&partner)?).await?;
    let viewer = Viewer::of(&page)
        .ok_or_else(|| Failure::precondition("opening the link", "the dashboard app", &page))?;
    let before = recipient.heartbeat(&viewer).await?.status;
    let out = recipient.sign_out().await?;
    let account = &env.accounts().cloud_outsider;
    recipient.sign_in(&account.email, &account.password).await?;
    let after = recipient.heartbeat(&viewer).await?.status;
    ev.expect(
        "sign-out-ends-the-viewers-it-opened",
        "the open viewer's heartbeat before the sign-out, the sign-out, and the same viewer after signing in again",
        before == 200 && out == 200 && after >= 400,
        "200, 200, then refused",
        (before, out, after),
    )
}

/// Someone who knows a newcomer's address asks for a sign-up code for it after the newcomer
/// did: the code in the newcomer's mailbox still creates the account (SHARE-2: a recipient
/// "or create one for it").
pub(super) async fn another_code_voids_none(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let env = ctx.environment().await?;
    let newcomer = format!("new-{}@recipient.example", mocks::world::random_token(4));
    let own = ShareRecipient::new(&env)?;
    let first = own.request_code(&env, &newcomer).await?;
    let meddler = ShareRecipient::new(&env)?;
    let second = meddler.request_code(&env, &newcomer).await?;
    let created = own
        .create_account(&newcomer, &first, "a-long-enough-password")
        .await?;
    let status = created.status().as_u16();
    let signed_in = created.headers().contains_key(reqwest::header::SET_COOKIE);
    ev.saw("the two codes differ", first != second);
    ev.expect(
        "newcomers-code-works-after-another-request",
        "the newcomer's own (first) code after someone asked another for the address: HTTP status, a session set",
        created.status().is_success() && signed_in,
        "created, signed in",
        (status, signed_in),
    )
}
