//! A flood of device authorizations spread over many machines (DOS-1). Every address is a
//! source, so the bound per source (`device_flow.open_grants_per_source` in
//! `fixtures/spec.json`) stops one machine and not many: here each flooding machine fills what
//! one source may hold, and together they ask for more than the cloud may hold in all
//! (`open_grants_in_all`). Judged on the far side: the grant table the cloud holds stays at
//! that bound; a DMS that was waiting for its approver when the flood began still gets approved
//! and redeems its token on its own poll; and a DMS that starts once the table is full is
//! served too (a full table that refuses locks every DMS out, which is the flood's aim).

use std::net::{IpAddr, Ipv4Addr};

use mocks::Environment;
use serde_json::json;

use crate::clients::{CloudClient, ScriptedDms, Started};
use crate::{Ctx, Failure, oracle, steps};

use super::floods::DIMENSION;

/// The machine of the DMS waiting for approval when the flood begins, and of the one that
/// starts after it: quiet sources, one grant each.
const WAITING: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 2, 1));
const LATE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 2, 2));

/// The `n`th flooding machine, in 127.1/16 (no other scenario's source).
fn flooder(n: usize) -> Result<IpAddr, Failure> {
    let octet = |v: usize| {
        u8::try_from(v).map_err(|_| Failure::Harness(format!("no address for flooder {n}")))
    };
    Ok(IpAddr::V4(Ipv4Addr::new(
        127,
        1,
        octet(1 + n / 250)?,
        octet(1 + n % 250)?,
    )))
}

/// Every device authorization one machine may have waiting, each with a key of its own: the
/// statuses the cloud answered.
async fn fill_one_source(
    env: &Environment,
    n: usize,
    per_source: usize,
    organization: &str,
) -> Result<Vec<u16>, Failure> {
    let client = CloudClient::from_address(env, Some(flooder(n)?))?;
    let mut statuses = Vec::with_capacity(per_source);
    for i in 0..per_source {
        let dms = ScriptedDms::new(&client, &format!("spread-{n}-{i}"))?.joining(organization);
        statuses.push(dms.start().await?.status);
    }
    Ok(statuses)
}

fn delivered(token: bool) -> &'static str {
    if token {
        "with a token"
    } else {
        "without a token"
    }
}

/// The organisation's Owner approves `started` on the approval page, then `dms` polls once:
/// the statuses of the approval and the poll, and whether the poll carried a token.
async fn approve_and_redeem(
    env: &Environment,
    dms: &ScriptedDms,
    started: &Started,
) -> Result<(u16, u16, bool), Failure> {
    let browser = CloudClient::new(env)?;
    let cookie = steps::cloud_login(env, &browser).await?;
    let approval = steps::approve_on_page(&browser, Some(&cookie), &started.user_code, &dms.id)
        .await?
        .answer
        .status;
    let token = dms.redeem(&started.device_code).await?;
    Ok((
        approval,
        token.status,
        token.field("access_token").is_some(),
    ))
}

pub(super) async fn floods_spread_over_many_machines_leave_the_grants_bounded(
    ctx: Ctx,
) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let spec = oracle::spec()?.device_flow.clone();
    let (per_source, in_all) = (spec.open_grants_per_source, spec.open_grants_in_all);
    // Enough machines that, each at its own bound, they ask for more than the bound in all.
    let sources = in_all / per_source.max(1) + 2;
    let organization = env.accounts().cloud_admin.organization.clone();

    let waiting = ScriptedDms::new(
        &CloudClient::from_address(&env, Some(WAITING))?,
        "dms-waiting-through-a-flood",
    )?;
    let waiting_grant = waiting.started().await?;
    let mut answered = Vec::new();
    for n in 0..sources {
        answered.extend(fill_one_source(&env, n, per_source, &organization).await?);
    }
    let granted = answered.iter().filter(|s| **s == 200).count();
    let held = env.cloud().table_sizes().device_grants;
    ev.row(
        DIMENSION,
        "device grants",
        format!(
            "a flood from {sources} machines, {per_source} each ({} in all)",
            answered.len()
        ),
        format!("{granted} answered 200, {held} held"),
    );
    ev.expect(
        "device-grants-bounded-in-all",
        "device grants the cloud holds after a flood from more machines than its bound in all needs (fixtures: device_flow.open_grants_in_all)",
        held <= in_all,
        &format!("at most {in_all}"),
        json!({ "held": held, "answered_200": granted, "asked": answered.len(), "sources": sources }),
    )?;

    // The DMS that waited through the flood: approved now, it redeems on its own poll.
    let (approval, poll, token) = approve_and_redeem(&env, &waiting, &waiting_grant).await?;
    ev.row(
        DIMENSION,
        "a DMS waiting for approval from a quiet machine",
        "through the spread flood",
        format!("approval {approval}, poll {poll} {}", delivered(token)),
    );
    ev.expect(
        "a-waiting-dms-is-served-through-a-spread-flood",
        "the approval of the grant a DMS started before the flood, then its poll: HTTP statuses and whether a token came",
        approval == 200 && poll == 200 && token,
        "200, then 200 with a token",
        json!({ "approval": approval, "poll": poll, "carried_a_token": token }),
    )?;

    // A DMS from another quiet machine starts while the table is full.
    let late = ScriptedDms::new(
        &CloudClient::from_address(&env, Some(LATE))?,
        "dms-starting-after-a-flood",
    )?;
    let reply = late.start().await?;
    let outcome = match Started::of(&reply) {
        Some(started) => Some(approve_and_redeem(&env, &late, &started).await?),
        None => None,
    };
    ev.row(
        DIMENSION,
        "a DMS starting from a quiet machine",
        "with the grant table full",
        match outcome {
            Some((approval, poll, token)) => format!(
                "authorization {}, approval {approval}, poll {poll} {}",
                reply.status,
                delivered(token)
            ),
            None => format!("authorization {}: no codes", reply.status),
        },
    );
    ev.expect(
        "a-new-dms-is-served-after-a-spread-flood",
        "a DMS's device authorization with the grant table full, its approval and its poll: HTTP statuses and whether a token came",
        reply.status == 200 && outcome == Some((200, 200, true)),
        "200 with codes, 200, then 200 with a token",
        json!({ "authorization": reply.status, "approval_poll_and_whether_a_token_came": outcome }),
    )
}
