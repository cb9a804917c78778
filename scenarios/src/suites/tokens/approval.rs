//! FLOW-3 on the verification page (RFC 8628 §5.1, §5.4): a person can open it at the URI the
//! cloud gave; it shows which DMS asks, the organisation it joins and where its request came
//! from, and approves only when the approver types that DMS's ID; only an account of that
//! organisation can approve; guessing user codes is slowed down.

use std::time::Duration;

use serde_json::json;

use crate::clients::{CloudClient, DmaClient, ScriptedDms};
use crate::steps::{self, approve_on_page, sign_in};
use crate::{Ctx, Failure, oracle};

/// Long enough for the agent to poll the token endpoint a few times.
const SEVERAL_POLLS: Duration = Duration::from_secs(30);

/// The page's text as a person reads it: markup and entities aside.
fn readable(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub(super) async fn the_page_shows_what_is_approved(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let accounts = env.accounts();
    let admin = DmaClient::new(&env).log_in(&accounts.dms_admin).await?;
    let pairing = admin.expect_data("ConnectToCloud", json!({})).await?;
    let (Some(user_code), Some(uri)) = (
        pairing.get("UserCode").and_then(|c| c.as_str()),
        pairing.get("VerificationUri").and_then(|c| c.as_str()),
    ) else {
        return Err(Failure::precondition(
            "ConnectToCloud",
            "a user code and a verification URI",
            &pairing,
        ));
    };
    // The URI the DMS shows is the connection host's page, reachable as given: its published
    // name, on the port the environment put it on.
    let host = spec.hosts.connection.as_str();
    let port = env
        .published()
        .into_iter()
        .find(|(name, _)| *name == host)
        .map(|(_, addr)| addr.port())
        .ok_or_else(|| Failure::Harness(format!("{host} is not published")))?;
    let page_url = format!("https://{host}:{port}/device");
    ev.expect_eq(
        "verification-uri-is-the-connection-page",
        "the verification URI the DMS shows the Administrator",
        page_url.as_str(),
        uri,
    )?;
    let browser = CloudClient::new(&env)?;
    let cookie = steps::cloud_login(&env, &browser).await?;
    let code: String = form_urlencoded::byte_serialize(user_code.as_bytes()).collect();
    let page = browser
        .open(
            mocks::cloud::Endpoint::Connection,
            &format!("device?user_code={code}"),
            Some(&cookie),
        )
        .await?;
    let html = page
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html"));
    ev.expect(
        "verification-page-opens",
        "the page of the user code: HTTP status, and HTML",
        page.status == 200 && html,
        "HTTP 200 text/html",
        (page.status, page.header("content-type")),
    )?;
    // Where the DMS's request came from, as the environment counted the DMS's sockets.
    let origins: Vec<String> = env
        .dms_egress()
        .local_addrs()
        .iter()
        .map(|a| a.ip().to_string())
        .collect();
    let shown = readable(&page.text);
    let mut missing = Vec::new();
    for (what, value) in [
        ("the DMS's name", accounts.dms_name.as_str()),
        ("the DMS's ID", accounts.dms_id.as_str()),
        (
            "the organization it joins",
            accounts.cloud_admin.organization.as_str(),
        ),
    ] {
        if !shown.contains(value) {
            missing.push(what);
        }
    }
    if !origins.iter().any(|ip| shown.contains(ip.as_str())) {
        missing.push("the address the request came from");
    }
    ev.expect_eq(
        "approval-page-names-dms-org-origin",
        "what the approval page leaves out of who asks",
        Vec::<&str>::new(),
        missing,
    )?;

    // Remote phishing: a look-alike DMS (the victim's DMS's name, the victim's organisation)
    // asks from elsewhere, and the victim is sent its link. Approving without typing the DMS
    // ID, or typing the ID of the DMS the victim thinks of, gives the look-alike nothing.
    let attacker = CloudClient::new(&env)?;
    let lookalike = ScriptedDms::new(&attacker, "dms-lookalike")?.named(&accounts.dms_name);
    let started = lookalike.started().await?;
    let one_click = approve_on_page(&browser, Some(&cookie), &started.user_code, "").await?;
    let mistyped = approve_on_page(
        &browser,
        Some(&cookie),
        &started.user_code,
        &accounts.dms_id,
    )
    .await?;
    let polled = lookalike.redeem(&started.device_code).await?;
    ev.expect_eq(
        "unconfirmed-approval-gives-no-token",
        "the look-alike's poll after approvals that did not type its ID: a token",
        false,
        polled.field("access_token").is_some(),
    )?;
    ev.expect_eq(
        "unconfirmed-approvals-refused",
        "approving without the DMS ID, and with another DMS's ID: HTTP status",
        (400, 400),
        (one_click.answer.status, mistyped.answer.status),
    )?;
    ev.expect_eq(
        "lookalike-still-pending",
        "the look-alike's poll: error",
        Some("authorization_pending".to_owned()),
        polled.error(),
    )?;
    // And the page a person opens with no code: the form to type one, after signing in.
    let bare = browser
        .open(mocks::cloud::Endpoint::Connection, "device", None)
        .await?;
    ev.expect(
        "verification-page-asks-for-sign-in",
        "the verification page without a session: a sign-in form",
        bare.status == 200 && bare.text.contains("<form"),
        "HTTP 200 with a form",
        bare.status,
    )?;
    Ok(())
}

pub(super) async fn another_organization_cannot_approve(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let accounts = env.accounts();
    let code = steps::dms_user_code(&env).await?;
    let outsider = CloudClient::new(&env)?;
    let cookie = sign_in(&outsider, &accounts.cloud_outsider).await?;
    let approval = approve_on_page(&outsider, Some(&cookie), &code, &accounts.dms_id).await?;
    steps::let_time_pass(&env, SEVERAL_POLLS, 6).await;
    ev.expect_eq(
        "foreign-approval-gives-dms-nothing",
        "after an account of another organization approved: token answers the cloud sent, credentials the DMS stores",
        (0, false),
        (steps::tokens_delivered(&env), env.dms_credentials().stored().is_some()),
    )?;
    ev.expect_eq(
        "foreign-approval-refused",
        "approving as an account of another organization: HTTP status",
        403,
        approval.answer.status,
    )?;
    // The DMS's own organisation approves: the control that shows the check could fail.
    let browser = CloudClient::new(&env)?;
    let own = steps::cloud_login(&env, &browser).await?;
    let approved = approve_on_page(&browser, Some(&own), &code, &accounts.dms_id).await?;
    if approved.answer.status != 200 {
        return Err(Failure::precondition(
            "the DMS's organization approving",
            "HTTP 200",
            approved.answer,
        ));
    }
    steps::let_time_pass(&env, SEVERAL_POLLS, 6).await;
    ev.expect_eq(
        "own-organization-approval-connects",
        "after the DMS's own organization approved: token answers the cloud sent",
        1,
        steps::tokens_delivered(&env),
    )
}

pub(super) async fn user_code_guessing_is_throttled(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let code = steps::dms_user_code(&env).await?;
    let guesser = CloudClient::new(&env)?;
    let cookie = sign_in(&guesser, &env.accounts().cloud_outsider).await?;
    let tries = 6 * spec.device_flow.user_code_guesses_allowed;
    let mut answers = Vec::new();
    for n in 0..tries {
        let guess = wrong_code(n, &code);
        let page = guesser
            .open(
                mocks::cloud::Endpoint::Connection,
                &format!("device?user_code={guess}"),
                Some(&cookie),
            )
            .await?;
        answers.push(page.status);
    }
    let evaluated = answers.iter().filter(|s| **s == 404).count();
    let throttled = answers.iter().filter(|s| **s == 429).count();
    ev.saw("answers to the wrong codes (HTTP status)", &answers);
    ev.expect(
        "user-code-guesses-throttled",
        "wrong user codes the cloud looked up for one account within its window",
        evaluated <= spec.device_flow.user_code_guesses_allowed,
        &format!("at most {}", spec.device_flow.user_code_guesses_allowed),
        evaluated,
    )?;
    ev.expect_eq(
        "guesses-past-the-limit-answered-429",
        "the guesses past the limit answered 429",
        tries - spec.device_flow.user_code_guesses_allowed,
        throttled,
    )?;
    let right = guesser
        .open(
            mocks::cloud::Endpoint::Connection,
            &format!("device?user_code={code}"),
            Some(&cookie),
        )
        .await?;
    ev.expect_eq(
        "locked-out-account-sees-no-request",
        "the right code, typed by the locked-out account: HTTP status",
        429,
        right.status,
    )
}

/// The `n`th user code that is not `real`, in the code alphabet of RFC 8628 §6.1's example.
fn wrong_code(n: usize, real: &str) -> String {
    const LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut k = n;
    let mut code = String::new();
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        code.push(char::from(LETTERS[k % LETTERS.len()]));
        k = k / LETTERS.len() + 7;
    }
    if code == real {
        code.replace_range(0..1, if real.starts_with('B') { "C" } else { "B" });
    }
    code
}
