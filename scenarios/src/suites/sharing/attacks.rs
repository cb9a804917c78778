//! A recipient who tries for more than was shared with them (SHARE-2, SHARE-3): another share's
//! link, another dashboard's calls through their own viewer (also naming the other share in the
//! headers the relay sets), the organisation's front end, a modified or made-up token. Every
//! attempt is refused, and the DMA carries out nothing for it but as their own share.

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
    partner.heartbeat(&viewer).await?;
    // A second share with the same recipient: its viewer acts as its own share's user only.
    let second = live::share(&env, &admin, "headend-view", &[&email], json!({})).await?;
    let (second_viewer, _) = live::open_viewer(&partner, second.link_for(&email)?).await?;
    let from = env.dma().executed().len();
    let beat = partner.heartbeat(&second_viewer).await?;
    let ran: Vec<_> = env.dma().executed().since(from);
    ev.expect(
        "each-viewer-acts-as-its-own-share",
        "calls the DMA carried out for the second share's viewer: the share they ran as",
        beat.status == 200
            && !ran.is_empty()
            && ran
                .iter()
                .all(|c| c.share.as_deref() == Some(second.share_id.as_str())),
        &format!("some, all as share {}, heartbeat HTTP 200", second.share_id),
        json!({ "heartbeat_status": beat.status, "executed": ran }),
    )?;
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
    // Through their own viewer, the other dashboard's calls, named as its share or not: what
    // the recipient sends reaches the DMS's side, and nothing of the other share runs there.
    let other_calls = live::dashboard_calls(&theirs.dashboard)?;
    let mut refused = Vec::new();
    for (method, parameters) in &other_calls {
        let forged = [
            ("x-dataminer-share", theirs.share_id.as_str()),
            ("x-dataminer-viewer", "0"),
        ];
        for headers in [&forged[..0], &forged[..]] {
            let answer = partner
                .send(
                    &viewer,
                    reqwest::Method::POST,
                    &format!("API/v1/Json.asmx/{method}"),
                    headers,
                    Some(parameters),
                )
                .await?;
            refused.push(json!({ "method": method, "forged_share": !headers.is_empty(), "status": answer.status }));
        }
    }
    let as_theirs: Vec<_> = env
        .dma()
        .executed()
        .since(before)
        .into_iter()
        .filter(|c| c.share.as_deref() == Some(theirs.share_id.as_str()))
        .collect();
    ev.expect(
        "another-shares-calls-not-carried-out",
        "calls the DMA carried out as the other share's user for this recipient (its dashboard's calls, with and without its share named in the relay's headers)",
        as_theirs.is_empty(),
        "none",
        json!({ "executed": as_theirs, "answers": refused }),
    )?;
    let front_end = partner
        .get(&format!(
            "/dms/{dms_id}/API/v1/Json.asmx/GetElementsForView"
        ))
        .await?;
    ev.expect_eq(
        "front-end-refuses-a-recipient",
        "the organisation's front end asked by the recipient: HTTP status",
        404,
        front_end.status,
    )?;
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
        statuses.push(partner.get(&format!("/s/{token}")).await?.status);
    }
    ev.expect(
        "modified-or-guessed-token-opens-nothing",
        "links with a modified or guessed token: HTTP statuses",
        statuses.iter().all(|s| *s == 404),
        "404 for each",
        json!({ "tokens": guessed, "statuses": statuses }),
    )?;
    let executed: Vec<_> = env
        .dma()
        .executed()
        .since(before)
        .into_iter()
        .filter(|c| {
            ![mine.share_id.as_str(), second.share_id.as_str()]
                .contains(&c.share.as_deref().unwrap_or_default())
        })
        .collect();
    ev.expect(
        "dma-executed-nothing-for-the-attempts",
        "calls the DMA carried out during the attempts, other than as the recipient's own share",
        executed.is_empty(),
        "none",
        &executed,
    )
}
