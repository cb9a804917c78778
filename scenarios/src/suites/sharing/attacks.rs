//! A recipient who tries for more than was shared with them (SHARE-2, SHARE-3): another share's
//! link, another dashboard or DMS in their own viewer's heartbeat, the organisation's front end,
//! a modified or made-up token. Every attempt is refused, and the DMA carries out nothing for it.

use serde_json::json;

use super::live;
use crate::{Ctx, Failure};

pub(super) async fn recipient_reaches_only_their_share(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = live::connected(&env).await?;
    let (email, partner) = live::partner(&env).await?;
    let mine = live::share(&env, &admin, "core-network", &[&email], json!({})).await?;
    let theirs = live::share(
        &env,
        &admin,
        "soc-overview",
        &["colleague@customer.example"],
        json!({}),
    )
    .await?;
    let (viewer, _) = live::open_viewer(&partner, mine.link_for(&email)?).await?;
    let before = env.dma().executed().len();

    let other_link = partner
        .open(theirs.link_for("colleague@customer.example")?)
        .await?;
    ev.expect_eq(
        "another-shares-link-refused",
        "another share's link opened by this recipient: HTTP status",
        403,
        other_link.status,
    )?;
    let dms_id = &env.accounts().dms_id;
    let token = mine
        .link_for(&email)?
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let attempts = [
        (
            "another-dashboard-refused",
            format!(
                "/s/{token}/dms/{dms_id}/dashboards/{}/data",
                theirs.dashboard
            ),
            403,
        ),
        (
            "another-dms-refused",
            format!(
                "/s/{token}/dms/dms-elsewhere/dashboards/{}/data",
                mine.dashboard
            ),
            403,
        ),
        (
            "front-end-refuses-a-recipient",
            format!("/dms/{dms_id}/API/v1/Json.asmx/GetElementsForView"),
            404,
        ),
    ];
    for (check, path, status) in attempts {
        let answer = partner.get(&path, Some(&viewer.session)).await?;
        ev.expect_eq(
            check,
            &format!("GET {path} as the recipient: HTTP status"),
            status,
            answer.status,
        )?;
    }
    let mut modified = token.clone();
    let last = if modified.pop() == Some('0') {
        '1'
    } else {
        '0'
    };
    modified.push(last);
    let guessed = [
        modified,
        "0".repeat(token.len()),
        format!("{}-0", mine.share_id),
    ];
    let mut statuses = Vec::new();
    for token in &guessed {
        statuses.push(partner.get(&format!("/s/{token}"), None).await?.status);
    }
    ev.expect(
        "modified-or-guessed-token-opens-nothing",
        "links with a modified or guessed token: HTTP statuses",
        statuses.iter().all(|s| *s == 404),
        "404 for each",
        json!({ "tokens": guessed, "statuses": statuses }),
    )?;
    let executed = env.dma().executed().since(before);
    ev.expect(
        "dma-executed-nothing-for-the-attempts",
        "calls the DMA carried out during the attempts",
        executed.is_empty(),
        "none",
        &executed,
    )
}
