//! A share's ID as a path segment: a DMS names its shares, and wherever an ID becomes part of
//! a path or a URL, `.` and `..` are rewritten by every normaliser (RFC 3986 §5.2.4) to the
//! share's folder or its parent, and a trailing dot is dropped by Windows paths. The share API
//! refuses such an ID when a share is announced and when one is withdrawn (one rule for both
//! routes), and takes an ID with a dot inside. Judged on the cloud's answers to the DMS and on
//! the outbox; which IDs are such segments is this file's own list.

use serde_json::json;

use mocks::Environment;

use crate::clients::{ForeignDms, Reply};
use crate::{Evidence, Failure};

/// Where the announcements' mails would go.
const TARGETS: &str = "segment-victim.example";
/// The sweep's dimension, as its matrix names it.
const DIMENSION: &str = "share IDs × path segments";
/// A share's ID with a dot inside: a path segment no normaliser touches, taken.
const CONTROL_ID: &str = "v2.1-weekly";

/// The IDs that are, or become, a path segment a normaliser rewrites, each with why.
fn segment_ids() -> [(&'static str, &'static str); 7] {
    [
        ("", "empty: the folder itself"),
        (".", "the current segment"),
        ("..", "the parent segment"),
        ("...", "dots only: Windows paths drop trailing dots"),
        ("share.", "a trailing dot: Windows paths drop it"),
        ("%2e%2e", "the parent segment, percent-encoded"),
        (".%2E", "the parent segment, half encoded"),
    ]
}

/// `mailer` announces share `id` to `to`, then withdraws it: the announcement's answer, the
/// mails the cloud sent to `to`, the withdrawal's answer.
async fn announce_and_withdraw(
    env: &Environment,
    mailer: &ForeignDms,
    id: &str,
    to: &str,
) -> Result<(Reply, usize, Reply), Failure> {
    let announced = mailer.announce(id, &[("emails", to)]).await?;
    let withdrawn = mailer.withdraw(id).await?;
    let mails = env
        .cloud()
        .outbox()
        .all()
        .iter()
        .filter(|m| m.to == to)
        .count();
    Ok((announced, mails, withdrawn))
}

/// `mailer` announces a share under each segment ID and withdraws each: every announcement
/// refused with no mail, every withdrawal refused as a bad ID; the control ID is announced,
/// mailed and withdrawn.
pub(crate) async fn share_ids_are_no_path_segments(
    env: &Environment,
    ev: &Evidence,
    mailer: &ForeignDms,
) -> Result<(), Failure> {
    let mut seen = Vec::new();
    for (i, (id, why)) in segment_ids().into_iter().enumerate() {
        let (announced, mails, withdrawn) =
            announce_and_withdraw(env, mailer, id, &format!("segment-{i}@{TARGETS}")).await?;
        ev.row(
            DIMENSION,
            format!("{id:?}"),
            why,
            format!(
                "announced: HTTP {}, {mails} mail(s); withdrawn: HTTP {} {}",
                announced.status, withdrawn.status, withdrawn.body["error"]
            ),
        );
        seen.push(json!({
            "share_id": id,
            "announced": announced.status,
            "mails": mails,
            "withdrawn": withdrawn.status,
            "withdrawal_error": withdrawn.body["error"],
        }));
    }
    let refused = |s: &serde_json::Value| {
        s["announced"] == 400
            && s["mails"] == 0
            && s["withdrawn"] == 400
            && (s["withdrawal_error"] == "bad_share_id"
                || (s["share_id"] == "" && s["withdrawal_error"] == "missing_parameter"))
    };
    ev.expect(
        "share-id-no-path-segment",
        "share IDs that are a path segment a normaliser rewrites, announced and then withdrawn: HTTP statuses, mails sent, the withdrawal's error",
        seen.iter().all(refused),
        "each announcement 400 with no mail, each withdrawal 400 bad_share_id (the empty one missing_parameter)",
        &seen,
    )?;

    let (announced, mails, withdrawn) = announce_and_withdraw(
        env,
        mailer,
        CONTROL_ID,
        &format!("segment-control@{TARGETS}"),
    )
    .await?;
    ev.row(
        DIMENSION,
        CONTROL_ID,
        "a dot inside (control)",
        format!(
            "announced: HTTP {}, {mails} mail(s); withdrawn: HTTP {}",
            announced.status, withdrawn.status
        ),
    );
    ev.expect_eq(
        "share-id-with-an-inner-dot-served",
        "a share ID with a dot inside, announced and then withdrawn: (HTTP status, mails, HTTP status)",
        (201, 1, 200),
        (announced.status, mails, withdrawn.status),
    )
}
