//! MAIL-2 on every field a DMS supplies: a DMS of another organisation announces shares whose
//! dashboard name, share ID, message and user's name each carry a hostile value (a line break
//! that plants a line, a link, markup, a value far beyond its bound, a link written in
//! fullwidth forms or with an ideographic full stop), an expiry already past, and it tries to
//! register a DMS ID that looks like another's in another case and a DMS name with a link.
//! Judged on the outbox (what the mailboxes got, read the way a mail reader folds compatibility
//! forms) and on the cloud's answers; the bounds are `fixtures/spec.json`'s.

use mocks::Environment;
use mocks::cloud::{Account, Mail};
use serde_json::json;

use super::share_ids;
use crate::clients::{CloudClient, ForeignDms, ScriptedDms};
use crate::{Ctx, Evidence, Failure, oracle};

/// Where the attacker's targets are.
const TARGETS: &str = "field-victim.example";
/// The sweep's dimension, as its matrix names it.
const DIMENSION: &str = "DMS-supplied fields × hostile values";
/// A line the attacker plants after a line break: it must reach no mailbox.
const PLANTED_LINE: &str = "Planted line: call the service desk";

/// The DMS-supplied fields of an announcement that reach a mail or a page.
const FIELDS: [&str; 4] = ["dashboard", "share_id", "message", "shared_by"];

/// The hostile values, by what they are; `overlong` is made to measure for each field.
fn hostile_values(overlong: String) -> Vec<(&'static str, String)> {
    vec![
        ("a planted line", format!("soc-overview\r\n{PLANTED_LINE}")),
        (
            "a link",
            "Session expired: sign in again at https://evil.example/login".to_owned(),
        ),
        ("markup", "<a href=\"https://x.test/\">Open</a>".to_owned()),
        ("a value far beyond its bound", overlong),
        (
            "a link in fullwidth forms",
            "Sign in at ｅｖｉｌ．ｅｘａｍｐｌｅ/login".to_owned(),
        ),
        (
            "a link with an ideographic full stop",
            "Sign in at evil。example/login".to_owned(),
        ),
    ]
}

/// `text` as a mail reader or browser reads a host in it: fullwidth ASCII forms folded to
/// ASCII, and the ideographic, halfwidth ideographic and small full stops to `.`.
fn folded(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '\u{3002}' | '\u{FF61}' | '\u{FE52}' | '\u{2024}' => '.',
            other => other,
        })
        .collect::<String>()
        .to_lowercase()
}

/// What `mail` carries of a hostile value as written, beyond the bound `longest` of a run
/// of the overlong marker.
fn carried_as_written(mail: &Mail, longest: usize) -> Vec<&'static str> {
    let text = format!("{}\n{}", mail.subject, mail.body);
    let mut found = Vec::new();
    if text.contains("evil.example") {
        found.push("a link to evil.example");
    }
    if text.contains("<a href") {
        found.push("markup");
    }
    if text.contains(PLANTED_LINE) || text.contains('\r') {
        found.push("a planted line");
    }
    if text.contains(&"Z".repeat(longest + 1)) {
        found.push("a value beyond its bound");
    }
    found
}

pub(crate) async fn every_dms_supplied_field_is_plain(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let limits = &spec.mail;
    let other = env.accounts().cloud_outsider.clone();
    let mailer = ForeignDms::register(&env, &other, "dms-field-mailer").await?;
    let bound = |field: &str| match field {
        "dashboard" => limits.dashboard_name_max_chars,
        "share_id" => limits.share_id_max_chars,
        "message" => limits.message_max_chars,
        _ => limits.sender_name_max_chars,
    };
    let longest = FIELDS.iter().map(|f| bound(f)).max().unwrap_or_default();

    let mut attempts = Vec::new();
    for (f, field) in FIELDS.iter().enumerate() {
        let overlong = "Z".repeat(bound(field) * 4 + 1);
        for (v, (what, value)) in hostile_values(overlong).into_iter().enumerate() {
            let to = format!("f{f}-v{v}@{TARGETS}");
            let own_id = format!("f{f}-v{v}");
            let share_id = if *field == "share_id" {
                &value
            } else {
                &own_id
            };
            let fields = [(*field, value.as_str()), ("emails", to.as_str())];
            let status = mailer.announce(share_id, &fields).await?.status;
            attempts.push((*field, what, to, status));
        }
    }
    // A share that has already ended: at the epoch, and a second ago.
    let now = env.clock().unix_seconds();
    let mut ended = Vec::new();
    for (i, at) in [0, now.saturating_sub(1)].into_iter().enumerate() {
        let to = format!("ended-{i}@{TARGETS}");
        let at = at.to_string();
        let fields = [("expires_at", at.as_str()), ("emails", to.as_str())];
        let status = mailer
            .announce(&format!("ended-{i}"), &fields)
            .await?
            .status;
        ended.push((at, to, status));
    }

    let all = env.cloud().outbox().all();
    let mails_to = |to: &str| -> Vec<&Mail> { all.iter().filter(|m| m.to == to).collect() };
    let mut as_written = Vec::new();
    let mut as_folded = Vec::new();
    let mut share_id_mailed = Vec::new();
    for (field, what, to, status) in &attempts {
        let mails = mails_to(to);
        ev.row(
            DIMENSION,
            *field,
            *what,
            format!("HTTP {status}; {} mail(s) in the outbox", mails.len()),
        );
        // A share's ID shows in no mail: the only safe answer to a hostile one is a refusal.
        if *field == "share_id" && !mails.is_empty() {
            share_id_mailed.push(format!("{what}: HTTP {status}, mailed"));
        }
        for mail in mails {
            for found in carried_as_written(mail, longest) {
                as_written.push(format!("{field}, {what}: {found}"));
            }
            let read = folded(&format!("{}\n{}", mail.subject, mail.body));
            if read.contains("evil.example") {
                as_folded.push(format!("{field}, {what}: a link to evil.example as read"));
            }
        }
    }
    ev.expect(
        "dashboard-and-share-id-plain-and-bounded",
        "what the mails carried of the hostile values as written (field, value: what), and hostile share IDs mailed",
        as_written.is_empty() && share_id_mailed.is_empty(),
        "nothing: each refused or neutralised, a hostile share ID refused",
        json!({ "carried": as_written, "share_ids_mailed": share_id_mailed }),
    )?;
    ev.expect(
        "no-compatibility-form-of-a-link",
        "what the mails carried that a mail reader folds into a link (fullwidth forms, ideographic full stops)",
        as_folded.is_empty(),
        "nothing",
        &as_folded,
    )?;

    let ended_mailed: Vec<(&str, u16, usize)> = ended
        .iter()
        .map(|(at, to, status)| (at.as_str(), *status, mails_to(to).len()))
        .collect();
    for (at, status, sent) in &ended_mailed {
        ev.row(
            DIMENSION,
            "expires_at",
            format!("already past ({at})"),
            format!("HTTP {status}; {sent} mail(s) in the outbox"),
        );
    }
    ev.expect(
        "no-mail-for-a-share-already-ended",
        "shares announced with an expiry already past: (expires_at, HTTP status, mails sent)",
        ended_mailed
            .iter()
            .all(|(_, status, sent)| *sent == 0 && *status >= 400),
        "each refused, no mail",
        &ended_mailed,
    )?;

    share_ids::share_ids_are_no_path_segments(&env, &ev, &mailer).await?;
    look_alike_ids_and_names(&env, &ev, &other, &mailer.dms_id).await
}

/// A device authorization for each of `ids`, joining `organization`: each ID with the status
/// the cloud answered, each a row of the matrix (`what` says what the ID is).
async fn authorize_each(
    client: &CloudClient,
    ev: &Evidence,
    organization: &str,
    ids: impl IntoIterator<Item = String>,
    what: &str,
) -> Result<Vec<(String, u16)>, Failure> {
    let mut answered = Vec::new();
    for id in ids {
        let reply = ScriptedDms::new(client, &id)?
            .joining(organization)
            .start()
            .await?;
        ev.row(
            DIMENSION,
            "DMS ID",
            format!("{id} ({what})"),
            format!("HTTP {}", reply.status),
        );
        answered.push((id, reply.status));
    }
    Ok(answered)
}

/// A DMS ID that differs from a registered one in case alone, an ID in upper case, and a DMS
/// name carrying a link, at device authorization.
async fn look_alike_ids_and_names(
    env: &Environment,
    ev: &Evidence,
    other: &Account,
    registered: &str,
) -> Result<(), Failure> {
    let client = CloudClient::new(env)?;
    let ids = authorize_each(
        &client,
        ev,
        &other.organization,
        [registered.to_uppercase(), "DMS-BCEBD039".to_owned()],
        "not lowercase",
    )
    .await?;
    ev.expect(
        "dms-id-taken-only-in-lowercase",
        "device authorizations for DMS IDs not in lowercase, one of them a registered ID in another case: HTTP statuses",
        ids.iter().all(|(_, status)| *status == 400),
        "400 for each",
        &ids,
    )?;
    let hosts = authorize_each(
        &client,
        ev,
        &other.organization,
        [
            "signin.dataminer-services.example".to_owned(),
            format!("{registered}."),
        ],
        "a host name",
    )
    .await?;
    ev.expect(
        "dms-id-is-no-host-name",
        "device authorizations for DMS IDs shaped as host names (a mail names the DMS by its ID): HTTP statuses",
        hosts.iter().all(|(_, status)| *status == 400),
        "400 for each",
        &hosts,
    )?;
    let named = ScriptedDms::new(&client, "dms-named-with-a-link")?
        .joining(&other.organization)
        .named("IT Service Desk ｅｖｉｌ．ｅｘａｍｐｌｅ/login")
        .start()
        .await?;
    ev.row(
        DIMENSION,
        "DMS name",
        "a link in fullwidth forms",
        format!("HTTP {}", named.status),
    );
    ev.expect_eq(
        "dms-name-plain",
        "a device authorization whose DMS name carries a link: HTTP status",
        400,
        named.status,
    )
}
