//! Unauthenticated floods (DOS-1): from another machine (127.0.0.2), two equal bursts of device
//! authorizations with self-made keys, approval-page openings, sign-up code requests for new
//! addresses and failed sign-ins. Bounded means the second burst grows no table of the
//! cloud's past where the first left it; legitimate clients on the DMS's own address are served
//! afterwards; and once the codes' lifetime has passed twice over, the cloud's maintenance has
//! removed every grant, ticket and pending sign-up. The cloud's resident set is reported, not
//! judged: the cloud runs inside the harness's process, beside every other scenario of the run
//! (`cargo test` and `conform run` run many at once), so the process's resident set moves with
//! what they do and with the allocator's reuse, and no bound on it would be about the cloud or
//! hold steady on a busy 2-core machine. The table sizes are the cloud's own memory, exact, and
//! are what the verdicts judge.
//! Then one account's sign-ins flood the session table (`floods_sessions`).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use mocks::Environment;
use mocks::cloud::{Endpoint, TableSizes};
use serde_json::json;

use crate::clients::{CloudClient, ScriptedDms, ShareRecipient};
use crate::{Ctx, Failure, steps};

pub(super) const DIMENSION: &str = "unauthenticated floods × the cloud's tables";

/// Requests of each kind in one burst.
const BURST: usize = 120;

/// The flooder's machine, and the one its accomplice's own grant comes from.
const FLOODER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const ACCOMPLICE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));

/// The resident set of this process (the cloud runs in it), in KiB, as the OS counts it.
fn resident_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// One burst of every kind of unauthenticated request.
async fn burst(
    env: &Environment,
    round: usize,
    flooder: &CloudClient,
    ticket_page: &(CloudClient, String, String),
) -> Result<(), Failure> {
    let organization = env.accounts().cloud_admin.organization.clone();
    for i in 0..BURST {
        let dms = ScriptedDms::new(flooder, &format!("flood-{round}-{i}"))?.joining(&organization);
        dms.start().await?;
        let (browser, cookie, path) = ticket_page;
        browser
            .open(Endpoint::Connection, path, Some(cookie))
            .await?;
        flooder
            .post(
                Endpoint::Sharing,
                "account/create/code",
                &json!({ "email": format!("flood-{round}-{i}@flood.example") }),
                None,
            )
            .await?;
        flooder
            .post(
                Endpoint::Sharing,
                "account/login",
                &json!({ "email": format!("nobody-{i}@flood.example"), "password": "wrong-password" }),
                None,
            )
            .await?;
    }
    Ok(())
}

fn rows(ev: &crate::Evidence, when: &str, sizes: TableSizes) {
    for (table, size) in [
        ("device grants", sizes.device_grants),
        ("approval-page tickets", sizes.approval_tickets),
        ("pending sign-ups", sizes.pending_signups),
        ("sessions", sizes.sessions),
    ] {
        ev.row(DIMENSION, table, when, format!("{size} entries"));
    }
}

pub(super) async fn unauthenticated_floods_leave_the_cloud_bounded(
    ctx: Ctx,
) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let flooder = CloudClient::from_address(&env, Some(FLOODER))?;

    // The accomplice: an account of another organisation with a grant of its own, whose
    // approval page it opens again and again (each opening is a ticket).
    let outsider = env.accounts().cloud_outsider.clone();
    let accomplice = CloudClient::from_address(&env, Some(ACCOMPLICE))?;
    let cookie = steps::sign_in(&accomplice, &outsider).await?;
    let own = ScriptedDms::new(&accomplice, "flood-accomplice")?
        .joining(&outsider.organization)
        .started()
        .await?;
    let code: String = form_urlencoded::byte_serialize(own.user_code.as_bytes()).collect();
    let ticket_page = (accomplice, cookie, format!("device?user_code={code}"));

    let before = env.cloud().table_sizes();
    let rss_before = resident_kib();
    rows(&ev, "before", before);
    burst(&env, 1, &flooder, &ticket_page).await?;
    let first = env.cloud().table_sizes();
    rows(&ev, &format!("after one burst of {BURST} of each"), first);
    burst(&env, 2, &flooder, &ticket_page).await?;
    let second = env.cloud().table_sizes();
    rows(
        &ev,
        &format!("after a second burst of {BURST} of each"),
        second,
    );
    let rss_after = resident_kib();
    ev.saw(
        "the harness process's resident set (KiB): before, after the bursts (reported only: other scenarios share the process)",
        (rss_before, rss_after),
    );

    let grew: Vec<String> = [
        ("device grants", first.device_grants, second.device_grants),
        (
            "approval-page tickets",
            first.approval_tickets,
            second.approval_tickets,
        ),
        (
            "pending sign-ups",
            first.pending_signups,
            second.pending_signups,
        ),
        ("sessions", first.sessions, second.sessions),
    ]
    .into_iter()
    .filter(|(_, a, b)| b > a)
    .map(|(table, a, b)| format!("{table}: {a} after one burst, {b} after two"))
    .collect();
    ev.expect_eq(
        "tables-stay-bounded-under-a-burst",
        "tables the second burst grew past where the first left them",
        Vec::<String>::new(),
        grew,
    )?;

    // Legitimate clients, on the DMS's own address: the DMS connects, and a new recipient
    // gets a sign-up code.
    let served = steps::connect_dms(&env).await.is_ok();
    let signed_up = ShareRecipient::new(&env)?
        .request_code(&env, "newcomer@recipient.example")
        .await
        .is_ok();
    ev.row(
        DIMENSION,
        "legitimate clients",
        "after the bursts",
        format!("DMS connected: {served}, sign-up code mailed: {signed_up}"),
    );
    ev.expect_eq(
        "legitimate-clients-served-during-floods",
        "the DMS connected and a newcomer got a sign-up code after the bursts",
        (true, true),
        (served, signed_up),
    )?;

    // Twice the codes' 15 minutes (RFC 8628 §3.2's expires_in the cloud gave) later, the
    // cloud's maintenance runs.
    let lifetime = own.expires_in.unwrap_or(900);
    steps::let_time_pass(&env, Duration::from_secs(2 * lifetime + 60), 4).await;
    env.cloud().maintain();
    let later = env.cloud().table_sizes();
    rows(
        &ev,
        "after twice the codes' lifetime and maintenance",
        later,
    );
    ev.expect_eq(
        "expired-unauthenticated-state-removed",
        "device grants, tickets and pending sign-ups left once every code expired",
        (0, 0, 0),
        (
            later.device_grants,
            later.approval_tickets,
            later.pending_signups,
        ),
    )?;
    super::floods_sessions::sign_in_flood(&env, &ev, &flooder, DIMENSION).await
}
