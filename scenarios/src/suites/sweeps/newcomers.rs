//! Newcomers are served while someone else floods (DOS-1): every per-source bound of the
//! cloud's is only as good as the source it sees. Through the recipients' hop, as `env up`
//! runs it, the cloud must see each client's own address: a flooder that fills its pending
//! sign-ups or its password guesses from one machine leaves a newcomer on another one a code,
//! an account and a sign-in. And sign-up mails, which anyone may ask for any address, are
//! bounded per address and source: another machine's requests for a newcomer's address leave
//! the newcomer a code of their own. Judged on the wire (the answers, the codes in the
//! outbox, the accounts they create) and on the addresses the cloud's request log recorded;
//! the bounds come from `fixtures/spec.json`.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use mocks::Environment;
use mocks::cloud::Endpoint;
use serde_json::json;

use crate::clients::{CloudClient, Reply, code_in};
use crate::{Ctx, Failure, oracle};

/// The flooder's machine, the newcomer's and the victim's of the guessing: three machines.
const FLOODER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const NEWCOMER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));
const VICTIM: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 4));

/// What a new account is given as its password.
const NEW_PASSWORD: &str = "a-long-enough-password";

async fn ask_code(client: &CloudClient, email: &str) -> Result<Reply, Failure> {
    client
        .post(
            Endpoint::Sharing,
            "account/create/code",
            &json!({ "email": email }),
            None,
        )
        .await
}

async fn sign_in(client: &CloudClient, email: &str, password: &str) -> Result<u16, Failure> {
    Ok(client
        .post(
            Endpoint::Sharing,
            "account/login",
            &json!({ "email": email, "password": password }),
            None,
        )
        .await?
        .status)
}

/// `who` asks a code for `email`, reads the mail that came, and creates the account with it:
/// the answer to the request, whether a new mail carried a code, and the creation's status
/// and whether it set a session.
async fn signs_up(
    env: &Environment,
    who: &CloudClient,
    email: &str,
) -> Result<(u16, bool, u16, bool), Failure> {
    let before = env.cloud().outbox().to(email).len();
    let asked = ask_code(who, email).await?;
    let code = env
        .cloud()
        .outbox()
        .to(email)
        .get(before..)
        .and_then(|new| new.iter().find_map(code_in));
    let Some(code) = code else {
        return Ok((asked.status, false, 0, false));
    };
    let created = who
        .post(
            Endpoint::Sharing,
            "account/create",
            &json!({ "email": email, "code": code, "password": NEW_PASSWORD }),
            None,
        )
        .await?;
    Ok((
        asked.status,
        true,
        created.status,
        created.set_cookie.is_some(),
    ))
}

/// A new address no one has asked for yet.
fn fresh(kind: &str) -> String {
    format!("{kind}-{}@recipient.example", mocks::world::random_token(4))
}

pub(super) async fn newcomers_are_served_through_the_hop(ctx: Ctx) -> Result<(), Failure> {
    let spec = oracle::spec()?;
    let mut options = ctx.options();
    options.proxied_hops = true;
    let env = ctx.environment_with(options).await?;
    let ev = ctx.evidence();
    let flooder = CloudClient::from_address(&env, Some(FLOODER))?;

    // The flooder fills its pending sign-ups, through the hop.
    let bound = spec.sign_up.pending_per_source;
    let mut flood = Vec::new();
    for i in 0..=bound {
        let email = format!("flood-{i}@flood.example");
        flood.push(ask_code(&flooder, &email).await?.status);
    }
    let (taken, past) = flood.split_at(bound);
    if taken.iter().any(|s| *s != 200) || past != [429] {
        return Err(Failure::precondition(
            format!("the flooder asking {} codes through the hop", bound + 1),
            format!("{bound} taken (200), the next refused (429)"),
            &flood,
        ));
    }

    let newcomer = CloudClient::from_address(&env, Some(NEWCOMER))?;
    let email = fresh("newcomer");
    let served = signs_up(&env, &newcomer, &email).await?;
    ev.expect(
        "newcomer-served-through-the-hop",
        "a newcomer on another machine, after the flood: the code request's status, a code mailed, the account's creation status, a session set",
        served == (200, true, 201, true),
        "200, mailed, 201, signed in",
        served,
    )?;

    // The flooder guesses the victim's password from its machine until refused; the victim
    // signs in from theirs.
    let victim = env.accounts().cloud_member.clone();
    let per_source = spec.cloud_sign_in.failures_per_address_and_source;
    let mut guesses = Vec::new();
    for n in 0..=per_source {
        guesses.push(sign_in(&flooder, &victim.email, &format!("guess-{n:03}")).await?);
    }
    let (wrong, refused) = guesses.split_at(per_source);
    if wrong.iter().any(|s| *s != 401) || refused != [429] {
        return Err(Failure::precondition(
            format!("the flooder's {} guesses through the hop", per_source + 1),
            format!("{per_source} wrong (401), the next refused (429)"),
            &guesses,
        ));
    }
    let owner = CloudClient::from_address(&env, Some(VICTIM))?;
    let signed_in = sign_in(&owner, &victim.email, &victim.password).await?;
    ev.expect_eq(
        "victim-signs-in-through-the-hop",
        "the account's owner signing in from their machine while the flooder is refused",
        200,
        signed_in,
    )?;

    // The cloud's own record: each client's requests came from that client's address.
    let sharing = Endpoint::Sharing.host();
    let peers: BTreeSet<IpAddr> = env
        .cloud()
        .requests()
        .all()
        .into_iter()
        .filter(|r| r.endpoint == sharing && r.path.contains("/account/"))
        .filter_map(|r| r.peer.map(|p| p.ip()))
        .collect();
    ev.expect_eq(
        "cloud-sees-each-clients-own-address",
        "the addresses the cloud recorded the account requests on the sharing host from",
        BTreeSet::from([FLOODER, NEWCOMER, VICTIM]),
        peers,
    )
}

pub(super) async fn another_source_cannot_use_up_an_addresss_sign_up_mails(
    ctx: Ctx,
) -> Result<(), Failure> {
    let spec = oracle::spec()?;
    let per_source = spec.sign_up.mails_per_address_and_source_per_day;
    let per_address = spec.mail.per_address_per_day;
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let meddler = CloudClient::from_address(&env, Some(FLOODER))?;

    // Someone asks, from one machine, as many codes for the newcomer's address as the
    // address may be mailed in a day.
    let email = fresh("newcomer");
    let mut asked = Vec::new();
    for _ in 0..per_address {
        asked.push(ask_code(&meddler, &email).await?);
    }
    let statuses: Vec<u16> = asked.iter().map(|r| r.status).collect();
    ev.saw(
        "the meddler's code requests' answers (HTTP status)",
        &statuses,
    );
    if asked.first().map(|r| r.status) != Some(200) {
        return Err(Failure::precondition(
            "the meddler's first code request",
            "taken (200)",
            &statuses,
        ));
    }
    let mailed_for_meddler = env.cloud().outbox().to(&email).len();

    // The newcomer, from their own machine, still gets a code and creates the account.
    let newcomer = CloudClient::from_address(&env, Some(NEWCOMER))?;
    let served = signs_up(&env, &newcomer, &email).await?;
    ev.expect(
        "newcomer-gets-a-code-after-another-sources-requests",
        "the newcomer on their own machine: the code request's status, a code mailed, the account's creation status, a session set",
        served == (200, true, 201, true),
        "200, mailed, 201, signed in",
        served,
    )?;

    // The meddler's source was answered until its share of the address's mails and refused
    // after, and the address got only that many.
    let expected: Vec<u16> = (0..per_address)
        .map(|n| if n < per_source { 200 } else { 429 })
        .collect();
    ev.expect_eq(
        "one-source-bounded-per-address",
        &format!(
            "one source's {per_address} code requests for an address (at most {per_source} mailed)"
        ),
        (expected, per_source),
        (statuses, mailed_for_meddler),
    )?;

    // Refused the same way for an address that has an account: the bound tells no one who
    // has one.
    let existing = env.accounts().cloud_member.email.clone();
    let mut last_existing = None;
    for _ in 0..per_address {
        last_existing = Some(ask_code(&meddler, &existing).await?);
    }
    let answer = |r: Option<&Reply>| r.map(|r| (r.status, r.body.clone()));
    ev.expect_eq(
        "bounded-answer-same-for-existing-address",
        "the answer to one source's last code request past the bound: for a new address, and for one with an account",
        answer(asked.last()),
        answer(last_existing.as_ref()),
    )
}
