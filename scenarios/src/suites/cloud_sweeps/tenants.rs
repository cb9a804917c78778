//! TEN-1 on shares: another organisation's DMS, registered by an account of that organisation
//! through the public connect flow, announces shares carrying the victim's share ID (copied
//! from what a recipient sees) and ends them, by deletion and by expiry. The victim's open
//! viewer, its link and its stored row must not notice, judged on the wire (the recipient's
//! heartbeat and reopened link) and in the store read with the scenario's own connection.

use std::time::Duration;

use serde_json::{Value, json};

use crate::clients::ForeignDms;
use crate::suites::sharing::live;
use crate::suites::storage::reader;
use crate::{Ctx, Failure};

const DASHBOARD: &str = "soc-overview";
/// The sweep's dimension, as its matrix names it (the keyed-objects sweep's, on shares).
const DIMENSION: &str = "tenants × keyed objects";

/// The share IDs `/api/shares` lists to a signed-in recipient: what every recipient sees.
async fn listed_share_ids(
    recipient: &crate::clients::ShareRecipient,
) -> Result<Vec<String>, Failure> {
    let listed = recipient.get("api/shares").await?;
    Ok(listed.json()["shares"]
        .as_array()
        .map(|shares| {
            shares
                .iter()
                .filter_map(|s| s["share_id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

pub(crate) async fn another_organisation_cannot_end_a_share(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = live::connected(&env).await?;
    let (email, partner) = live::partner(&env).await?;
    let shared = live::share(&env, &admin, DASHBOARD, &[&email], json!({})).await?;
    let link = shared.link_for(&email)?.to_owned();
    let (viewer, _) = live::open_viewer(&partner, &link).await?;
    let first = partner.heartbeat(&viewer).await?;
    if first.status != 200 {
        return Err(Failure::precondition(
            "the viewer's first heartbeat",
            "HTTP 200",
            first.status,
        ));
    }
    // The recipient copies the ID it is shown; its organisation connects DMSs of its own.
    let copied = listed_share_ids(&partner).await?;
    if !copied.contains(&shared.share_id) {
        return Err(Failure::precondition(
            "the share as its recipient lists it",
            shared.share_id.clone(),
            &copied,
        ));
    }
    let other = &env.accounts().cloud_outsider;
    let deleter = ForeignDms::register(&env, other, "dms-of-the-other-org").await?;
    let expirer = ForeignDms::register(&env, other, "dms-of-the-other-org-2").await?;
    let soon = (env.clock().unix_seconds() + 60).to_string();
    let attempts = [
        (
            "announce the copied ID",
            deleter.announce(&shared.share_id, &[]).await?.status,
        ),
        (
            "delete it",
            deleter.withdraw(&shared.share_id).await?.status,
        ),
        (
            "announce it again to expire in a minute",
            expirer
                .announce(&shared.share_id, &[("expires_at", &soon)])
                .await?
                .status,
        ),
    ];
    ev.saw(
        "the other organisation's DMSs, and their HTTP statuses",
        (&deleter.dms_id, &expirer.dms_id, attempts),
    );
    for (how, status) in &attempts {
        ev.row(
            DIMENSION,
            "share (another organisation's DMS)",
            format!("the victim's copied share ID: {how}"),
            format!("HTTP {status}"),
        );
    }
    env.advance(Duration::from_secs(120)).await;

    let beat = partner.heartbeat(&viewer).await?;
    ev.row(
        DIMENSION,
        "share (the victim's side)",
        "the open viewer's next heartbeat, two minutes on",
        format!("HTTP {}", beat.status),
    );
    ev.expect_eq(
        "victims-viewer-survives-another-orgs-end",
        "the victim's open viewer's next heartbeat: HTTP status",
        200,
        beat.status,
    )?;
    let reopened = partner.open(&link).await?;
    let again = match live::open_viewer(&partner, &link).await {
        Ok((viewer, _)) => partner.heartbeat(&viewer).await?.status,
        Err(_) => reopened.status,
    };
    ev.row(
        DIMENSION,
        "share (the victim's side)",
        "the link reopened, then its new viewer's first heartbeat",
        format!("HTTP {} / HTTP {again}", reopened.status),
    );
    ev.expect_eq(
        "victims-link-survives-another-orgs-end",
        "the victim's link reopened, then its new viewer's first heartbeat: HTTP statuses",
        (200, 200),
        (reopened.status, again),
    )?;
    let paths = crate::suites::storage::store_paths(&env)?;
    let rows = reader::table_rows(&env, &paths.database, "shares")?;
    let victim = &env.accounts().dms_id;
    let of_the_victim: Vec<_> = rows
        .iter()
        .filter(|r| r.get("share_id") == Some(&shared.share_id))
        .filter(|r| r.get("dms_id") == Some(victim))
        .collect();
    ev.row(
        DIMENSION,
        "share (the victim's side)",
        "its stored rows (its DMS, its ID), read from the primary file",
        format!(
            "{} row(s), ended: {:?}",
            of_the_victim.len(),
            of_the_victim
                .iter()
                .map(|r| r.get("ended_at").is_some_and(|e| !e.is_empty()))
                .collect::<Vec<_>>()
        ),
    );
    ev.expect(
        "victims-stored-share-intact",
        "the stored rows of the victim's share (its DMS, its ID), read from the primary file",
        of_the_victim.len() == 1
            && of_the_victim
                .iter()
                .all(|r| r.get("ended_at").is_some_and(String::is_empty)),
        "one row, not ended",
        json!({
            "victim": of_the_victim,
            "rows with the ID": rows
                .iter()
                .filter(|r| r.get("share_id") == Some(&shared.share_id))
                .map(|r| json!({ "dms_id": r.get("dms_id"), "ended_at": r.get("ended_at") }))
                .collect::<Vec<Value>>(),
        }),
    )
}
