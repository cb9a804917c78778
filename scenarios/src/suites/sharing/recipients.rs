//! The recipient's path (SHARE-1, SHARE-2, SHARE-3, MAIL-1): the mails, who the link opens
//! for, and the dashboard live from the DMA through tunnel, agent and WAF as the share user.
//! Verdicts come from the cloud's outbox and records, the DMA's executed-call log and user
//! table, and the WAF's decisions.

use mocks::dma::Channel;
use mocks::waf::Verdict;
use serde_json::json;

use super::live::{self, NEW_ADDRESS};
use crate::clients::{DmaClient, ShareRecipient, Viewer};
use crate::{Ctx, Failure, oracle};

const DASHBOARD: &str = "core-network";

/// The bits a token can carry at most, from its length and the alphabet its characters come
/// from (hex, base64url, or anything else printable): an upper bound, so a short token fails.
fn token_bits(token: &str) -> f64 {
    let alphabet: f64 = if token.chars().all(|c| c.is_ascii_hexdigit()) {
        16.0
    } else if token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        64.0
    } else {
        95.0
    };
    token.chars().count() as f64 * alphabet.log2()
}

/// The common prefix of two tokens, in characters.
fn shared_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

/// SHARE-1, MAIL-1: one mail per address, from the dataminer.services domain, each with its own
/// unguessable link; a DMS user without the sharing permission shares nothing.
pub(super) async fn each_address_gets_one_mail(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let admin = live::connected(&env).await?;

    let operator = DmaClient::new(&env)
        .log_in(&env.accounts().dms_operator)
        .await?;
    let refused = operator
        .call(
            "ShareDashboard",
            json!({ "dashboardID": DASHBOARD, "emails": ["x@partner.example"] }),
        )
        .await?;
    ev.saw("the Operator's ShareDashboard", &refused);
    ev.expect_eq(
        "user-without-sharing-permission-shares-nothing",
        "share users after an Operator (no sharing permission) asked",
        0,
        env.dma().share_users().len(),
    )?;

    let addresses = [
        "a.viewer@partner.example",
        "b.viewer@partner.example",
        NEW_ADDRESS,
    ];
    let message = "Tonight's maintenance: keep an eye on the core switch.";
    let shared = live::share(
        &env,
        &admin,
        DASHBOARD,
        &addresses,
        json!({ "message": message, "expiresAt": env.clock().unix_seconds() + 7 * 86_400 }),
    )
    .await?;
    let mails = env.cloud().outbox().all();
    ev.saw("the outbox", &mails);
    let per_address: Vec<(String, usize)> = addresses
        .iter()
        .map(|a| {
            let count = shared
                .links
                .iter()
                .filter(|(to, _)| to.eq_ignore_ascii_case(a))
                .count();
            ((*a).to_owned(), count)
        })
        .collect();
    ev.expect(
        "one-mail-with-a-link-per-address",
        "mails with a share link, per address",
        per_address.iter().all(|(_, n)| *n == 1) && shared.links.len() == addresses.len(),
        "exactly one per address, none elsewhere",
        &per_address,
    )?;
    let domain = format!("@{}>", spec.sharing.mail_domain);
    let senders: Vec<&str> = mails.iter().map(|m| m.from.as_str()).collect();
    ev.expect(
        "mail-from-the-dataminer-services-domain",
        "the From of every mail the cloud sent",
        senders
            .iter()
            .all(|f| f.to_ascii_lowercase().ends_with(&domain)),
        &format!("an address ending in {domain}"),
        &senders,
    )?;
    ev.expect(
        "mail-carries-the-message",
        "the share mails' bodies",
        mails.iter().all(|m| m.body.contains(message)),
        "the sharer's message in each",
        mails.iter().map(|m| m.body.clone()).collect::<Vec<_>>(),
    )?;
    let tokens: Vec<String> = shared
        .links
        .iter()
        .filter_map(|(_, link)| link.rsplit('/').next().map(str::to_owned))
        .collect();
    let min_bits = f64::from(spec.sharing.link_token_min_bits);
    let weakest = tokens
        .iter()
        .map(|t| token_bits(t))
        .fold(f64::MAX, f64::min);
    let longest_prefix = tokens
        .iter()
        .flat_map(|a| tokens.iter().filter(move |b| *b != a).map(move |b| (a, b)))
        .map(|(a, b)| shared_prefix(a, b))
        .max()
        .unwrap_or(0);
    ev.expect(
        "share-token-carries-128-random-bits",
        "the link tokens: fewest bits, longest common prefix, the share ID inside",
        weakest >= min_bits
            && longest_prefix <= 4
            && !tokens.iter().any(|t| t.contains(&shared.share_id)),
        &format!("each at least {min_bits} bits, independent of the others and of the share ID"),
        json!({ "tokens": tokens, "fewest_bits": weakest, "longest_common_prefix": longest_prefix }),
    )?;
    let records = env.cloud().shares();
    let recorded = records
        .iter()
        .find(|r| r.share_id == shared.share_id)
        .map(|r| r.recipients.clone());
    ev.expect_eq(
        "cloud-record-lists-the-addresses",
        "the cloud's record of the share: its recipients",
        Some(
            addresses
                .iter()
                .map(|a| (*a).to_owned())
                .collect::<Vec<_>>(),
        ),
        recorded,
    )
}

/// SHARE-2: the link opens for the account of its address, or one created for it with the
/// mailed code; not without an account, not for another one.
pub(super) async fn link_opens_only_for_its_account(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = live::connected(&env).await?;
    let (partner_email, partner) = live::partner(&env).await?;
    let shared = live::share(
        &env,
        &admin,
        DASHBOARD,
        &[&partner_email, NEW_ADDRESS],
        json!({}),
    )
    .await?;
    let link = shared.link_for(&partner_email)?;

    let other = live::someone_else(&env).await?;
    let as_other = other.open(link).await?;
    ev.expect_eq(
        "other-account-refused",
        "the partner's link opened by another signed-in account: HTTP status",
        403,
        as_other.status,
    )?;
    let nobody = ShareRecipient::new(&env)?.open(link).await?;
    ev.expect_eq(
        "no-account-refused",
        "the link opened without an account: HTTP status",
        401,
        nobody.status,
    )?;
    let openings = |env: &mocks::Environment| {
        env.cloud()
            .shares()
            .into_iter()
            .flat_map(|r| r.openings)
            .collect::<Vec<_>>()
    };
    ev.expect_eq(
        "refused-openings-not-recorded",
        "openings the cloud recorded after the refusals",
        0,
        openings(&env).len(),
    )?;
    let mine = partner.open(link).await?;
    ev.expect(
        "recipient-account-admitted",
        "the link opened by the account of its address",
        Viewer::of(&mine).is_some(),
        "HTTP 200 with the DMS's dashboard app",
        mine.status,
    )?;

    let newcomer = ShareRecipient::new(&env)?;
    let code = newcomer.request_code(&env, NEW_ADDRESS).await?;
    let wrong = format!("{code}0");
    let guessed = newcomer
        .create_account(NEW_ADDRESS, &wrong, "a long enough password")
        .await?
        .status()
        .as_u16();
    ev.expect_eq(
        "wrong-code-creates-no-account",
        "creating the account with a wrong code: HTTP status",
        401,
        guessed,
    )?;
    let mut newcomer = ShareRecipient::new(&env)?;
    newcomer
        .sign_up(&env, NEW_ADDRESS, "a long enough password")
        .await?;
    let new_link = shared.link_for(NEW_ADDRESS)?;
    let theirs = newcomer.open(new_link).await?;
    ev.expect_eq(
        "new-account-admitted-after-proving-its-address",
        "the link opened by the account just made for its address: HTTP status",
        200,
        theirs.status,
    )?;
    let accounts: Vec<String> = openings(&env).into_iter().map(|o| o.account).collect();
    ev.expect_eq(
        "openings-by-the-recipients-only",
        "the accounts the cloud recorded opening the share",
        vec![partner_email.clone(), NEW_ADDRESS.to_owned()],
        accounts,
    )
}

/// SHARE-3: the viewer shows the dashboard's elements and alarms, asked of the DMA through the
/// tunnel, the agent and the WAF as the share user, and asks again at every heartbeat.
pub(super) async fn dashboard_live_through_the_tunnel(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = live::connected(&env).await?;
    let (partner_email, partner) = live::partner(&env).await?;
    let shared = live::share(&env, &admin, DASHBOARD, &[&partner_email], json!({})).await?;
    let expected = live::expected_texts(DASHBOARD)?;
    let before = env.dma().executed().len();
    let streams_before: u64 = env.cloud().tunnels().streams_carried().values().sum();
    let (viewer, _) = live::open_viewer(&partner, shared.link_for(&partner_email)?).await?;
    let beat = partner.heartbeat(&viewer).await?;
    ev.saw("the heartbeat", &beat);
    let missing: Vec<&String> = expected
        .iter()
        .filter(|t| !beat.body.contains(t.as_str()))
        .collect();
    ev.expect(
        "viewer-shows-the-dashboard-elements-and-alarms",
        "element names and alarm values (fixtures) missing from what the app's calls got",
        beat.status == 200 && missing.is_empty(),
        "none missing, heartbeat HTTP 200",
        json!({ "missing": missing, "heartbeat_status": beat.status }),
    )?;
    let executed = env.dma().executed().since(before);
    let foreign: Vec<_> = executed
        .iter()
        .filter(|c| c.channel != Channel::Gateway || c.login != shared.login)
        .collect();
    ev.expect(
        "dma-executed-the-calls-as-the-share-user-on-the-gateway",
        "calls the DMA carried out for the viewer",
        !executed.is_empty() && foreign.is_empty(),
        &format!("some, all on the gateway channel as {}", shared.login),
        &executed,
    )?;
    let decisions = env.waf().decisions().all();
    let for_share = decisions
        .iter()
        .filter(|d| d.share.as_deref() == Some(shared.share_id.as_str()))
        .filter(|d| d.verdict == Verdict::Allowed)
        .count();
    ev.expect(
        "waf-passed-the-calls-on-the-share",
        "WAF decisions allowing calls on the share's connection",
        for_share > 0,
        "some",
        &decisions,
    )?;
    let carried: u64 = env.cloud().tunnels().streams_carried().values().sum();
    ev.expect(
        "calls-carried-by-the-dms-tunnel",
        "streams the cloud sent through the DMS's tunnels, before and after the viewer",
        carried >= streams_before + executed.len() as u64,
        "one more per call the DMA carried out",
        json!({ "before": streams_before, "after": carried }),
    )?;
    let asked = env.dma().executed().len();
    env.advance(std::time::Duration::from_secs(5)).await;
    let again = partner.heartbeat(&viewer).await?;
    ev.expect(
        "heartbeat-asks-the-dma-again",
        "calls the DMA carried out for the next heartbeat",
        again.status == 200 && env.dma().executed().len() > asked,
        "HTTP 200 and new calls",
        json!({ "status": again.status, "calls_before": asked, "calls_after": env.dma().executed().len() }),
    )
}
