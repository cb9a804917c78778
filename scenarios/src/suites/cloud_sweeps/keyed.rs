//! TEN-1 swept over what the cloud keys by an ID. Organisation A (the environment's DMS, its
//! share sent to a member of A, that member's link and open viewer) and organisation B (its
//! Owner's account, and a full DMS site of its own connected through the public connect flow,
//! approved by that Owner). B tries every object of A it can name — copied (a forwarded link,
//! a viewer session, a leaked token or refresh key), guessed (the share ID, the DMS ID, the
//! account's address, a device code) or colliding (A's share ID, A's DMS ID) — on every route
//! that takes it, with B's DMS's own token and key. Each row is judged on the wire (B's answer)
//! and on A's side (A's member's viewer and link, A's token, the outbox, A's rows in the store
//! read with the scenario's own connection), and is a row of the sweep's matrix.

use mocks::cloud::Endpoint;
use serde_json::{Value, json};

use super::keyed_row::Row;
use super::keyed_tokens;
use crate::clients::{CloudClient, ForeignDms, ShareRecipient};
use crate::suites::sharing::live;
use crate::suites::storage::reader;
use crate::{Ctx, Failure, second_site};

const DASHBOARD: &str = "soc-overview";
const DIMENSION: &str = "tenants × keyed objects";

pub(crate) async fn another_organisation_reaches_nothing_keyed_by_id(
    ctx: Ctx,
) -> Result<(), Failure> {
    let env = second_site::environment(&ctx).await?;
    let ev = ctx.evidence();
    let accounts = env.accounts().clone();
    let admin = live::connected(&env).await?;
    let b_site = second_site::connect(&env).await?;
    // A's share goes to a member of A; B's member is no recipient of it.
    let member = live::someone_else(&env).await?;
    let member_email = accounts.cloud_admin.email.clone();
    let shared = live::share(&env, &admin, DASHBOARD, &[&member_email], json!({})).await?;
    let link = shared.link_for(&member_email)?.to_owned();
    let (viewer, _) = live::open_viewer(&member, &link).await?;
    if member.heartbeat(&viewer).await?.status != 200 {
        return Err(Failure::precondition(
            "A's member's viewer",
            "HTTP 200",
            "another status",
        ));
    }
    let outsider = accounts.cloud_outsider.clone();
    let mut b_member = ShareRecipient::new(&env)?;
    b_member
        .sign_in(&outsider.email, &outsider.password)
        .await?;
    // B's DMS as B holds it: its ID and the token its own gateway keeps.
    let b_dms = ForeignDms {
        client: CloudClient::new(&env)?,
        dms_id: b_site.dms_id.clone(),
        token: second_site::site(&env)?
            .dms_credentials()
            .stored()
            .map(|c| c.access_token)
            .ok_or_else(|| Failure::precondition("B's DMS's token", "held", "none"))?,
    };
    let a_dms = accounts.dms_id.clone();
    let mut rows = Vec::new();
    let reached_if = |hit: bool, what: String| hit.then_some(what);

    // The DMS: B's token on A's registration.
    let reply = b_dms
        .client
        .get_with_token(
            Endpoint::Connection,
            &format!("api/dms/{a_dms}"),
            &b_dms.token,
        )
        .await?;
    rows.push(Row {
        object: "DMS",
        how: "B's DMS token on A's registration (guessed ID)",
        status: reply.status,
        reached: reached_if(
            reply.body.get("dms_id").and_then(Value::as_str) == Some(a_dms.as_str()),
            "A's registration read".into(),
        ),
    });
    // The DMS's API through the sharing front end, as B's member.
    let api = b_member
        .get(&format!("dms/{a_dms}/API/v1/Json.asmx/GetElement"))
        .await?;
    rows.push(Row {
        object: "DMS",
        how: "B's member on A's DMS API through the sharing front end",
        status: api.status,
        reached: reached_if(api.status == 200, "A's DMS answered".into()),
    });
    // The share: B's member lists what was shared with it.
    let listed = b_member.get("api/shares").await?;
    let listed_ids: Vec<String> = listed.json()["shares"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|s| s["share_id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    rows.push(Row {
        object: "share",
        how: "B's member's share list",
        status: listed.status,
        reached: reached_if(
            listed_ids.contains(&shared.share_id),
            "A's share listed to B".into(),
        ),
    });
    // The share: B's DMS withdraws A's share ID (guessed) it never announced.
    let withdrawn = b_dms.withdraw(&shared.share_id).await?;
    let beat = member.heartbeat(&viewer).await?.status;
    rows.push(Row {
        object: "share",
        how: "B's DMS withdraws A's share ID (guessed, never announced by B)",
        status: withdrawn.status,
        reached: reached_if(beat != 200, format!("A's viewer answered {beat}")),
    });
    // The share: B's DMS announces the same ID (colliding), then withdraws its own.
    let mails_before = mails_to(&env, &member_email)?;
    let announced = b_dms.announce(&shared.share_id, &[]).await?;
    b_dms.withdraw(&shared.share_id).await?;
    let beat = member.heartbeat(&viewer).await?.status;
    rows.push(Row {
        object: "share",
        how: "B's DMS announces A's share ID (colliding) and withdraws it",
        status: announced.status,
        reached: reached_if(beat != 200, format!("A's viewer answered {beat}")),
    });
    // The outbox entries of A's share: B's colliding share ID mails nothing to A's recipients.
    let mails_after = mails_to(&env, &member_email)?;
    rows.push(Row {
        object: "outbox entry",
        how: "the stored mails to A's recipient after B announced and withdrew A's share ID",
        status: announced.status,
        reached: reached_if(
            mails_after > mails_before,
            format!(
                "{} new mail(s) to A's recipient",
                mails_after - mails_before
            ),
        ),
    });
    // Grants and token families: B's real DMS, with its own key.
    rows.extend(keyed_tokens::grants_and_families(&env).await?);
    // The link: forwarded to B's member.
    let opened = b_member.open(&link).await?;
    rows.push(Row {
        object: "link",
        how: "A's link (copied) opened by B's member",
        status: opened.status,
        reached: reached_if(opened.status == 200, "the viewer served to B".into()),
    });
    // The viewer session: its URL (the capability) copied into B's member's browser and opened
    // as a page there, with B's member's sign-in. Within the tab that holds it the URL is a
    // bearer capability by design; a page of it opens only for the account it was opened for.
    let stolen = b_member.navigate(&viewer.base).await?;
    rows.push(Row {
        object: "viewer session",
        how: "A's viewer URL (copied) opened as a page with B's member's sign-in",
        status: stolen.status,
        reached: reached_if(
            stolen.status == 200,
            "A's dashboard data served to B".into(),
        ),
    });
    // The account: a sign-up code asked for A's member's address, and B's password on it.
    let page = CloudClient::new(&env)?;
    // A code mail is what would let B create the account; the owner being told of the
    // request (the answer is the same for every address, so the page tells no one) is not.
    let codes = || {
        env.cloud()
            .outbox()
            .to(&member_email)
            .into_iter()
            .filter(|m| m.subject.to_ascii_lowercase().contains("code"))
            .count()
    };
    let before = codes();
    let code = page
        .post_form(
            Endpoint::Sharing,
            "account/create/code",
            &[("email", &member_email)],
            None,
        )
        .await?;
    let mailed = codes() - before;
    rows.push(Row {
        object: "account",
        how: "a sign-up code asked for A's member's address",
        status: code.status,
        reached: reached_if(mailed > 0, format!("{mailed} code mail(s) to A's member")),
    });
    let login = page
        .post(
            Endpoint::Sharing,
            "account/login",
            &json!({ "email": member_email, "password": outsider.password }),
            None,
        )
        .await?;
    rows.push(Row {
        object: "account",
        how: "A's member's address with B's member's password",
        status: login.status,
        reached: reached_if(login.set_cookie.is_some(), "a session as A's member".into()),
    });

    // A's side after everything: the viewer, the link, the stored row.
    let beat = member.heartbeat(&viewer).await?.status;
    let reopened = member.open(&link).await?.status;
    let paths = crate::suites::storage::store_paths(&env)?;
    let stored = reader::table_rows(&env, &paths.database, "shares")?;
    let a_row_intact = stored.iter().any(|r| {
        r.get("share_id") == Some(&shared.share_id)
            && r.get("dms_id") == Some(&a_dms)
            && r.get("ended_at").is_some_and(String::is_empty)
    });
    rows.push(Row {
        object: "share (A's side)",
        how: "after every attempt: A's viewer, A's link, A's stored row",
        status: beat,
        reached: reached_if(
            beat != 200 || reopened != 200 || !a_row_intact,
            format!("viewer {beat}, link {reopened}, stored row intact: {a_row_intact}"),
        ),
    });
    ev.saw(
        "organisation B × A's keyed objects (the sweep's matrix)",
        &rows,
    );
    for row in &rows {
        ev.row(
            DIMENSION,
            row.object,
            row.how,
            match &row.reached {
                Some(what) => format!("HTTP {}; REACHED: {what}", row.status),
                None => format!("HTTP {}; nothing of A", row.status),
            },
        );
    }
    let listed_to_b: Vec<&Row> = rows
        .iter()
        .filter(|r| r.how == "B's member's share list" && r.reached.is_some())
        .collect();
    ev.expect(
        "another-orgs-share-list-holds-none-of-ours",
        "what B's member's share list showed of A",
        listed_to_b.is_empty(),
        "nothing of A",
        &listed_to_b,
    )?;
    let reached: Vec<&Row> = rows.iter().filter(|r| r.reached.is_some()).collect();
    ev.expect(
        "another-org-reaches-nothing-keyed-by-id",
        "B's attempts that read, changed or ended something of A",
        reached.is_empty(),
        "none",
        &reached,
    )
}

/// How many mails the store holds to `email`, read with the scenario's own connection.
fn mails_to(env: &mocks::Environment, email: &str) -> Result<usize, Failure> {
    let paths = crate::suites::storage::store_paths(env)?;
    Ok(reader::table_rows(env, &paths.database, "mail_outbox")?
        .iter()
        .filter(|r| {
            r.get("recipient")
                .is_some_and(|to| to.eq_ignore_ascii_case(email))
        })
        .count())
}
