//! MAIL-1 and MAIL-2, on the outbox (what the recipients' mailboxes get): a DMS of another
//! organisation tries to turn the cloud's mail into a relay with the dataminer.services name
//! on it: links and markup in the message and the sender's name, texts beyond any bound, 50
//! addresses a call for as many calls as it likes, one address mailed again and again (share
//! links and sign-up codes). Every mail of every kind must come from the dataminer.services
//! domain in its From and its envelope, link only to the cloud's own hosts, carry the DMS's
//! text only plain and bounded, name the organisation the cloud verified, and stay within the
//! limits per DMS and per address `fixtures/spec.json` states.

use mocks::Environment;
use mocks::cloud::{Endpoint, Mail};
use serde_json::json;

use crate::clients::CloudClient;
use crate::clients::ForeignDms;
use crate::suites::sharing::live;
use crate::{Ctx, Failure, oracle};

/// Where the attacker's targets are: every address the scenario makes up is under it.
const TARGETS: &str = "victim.example";
/// What the attacker plants: none of it may reach a mailbox.
const PLANTED: &[&str] = &["evil.example", "<a href", "<img"];

/// The sweep's dimension, as its matrix names it.
const DIMENSION: &str = "mail kinds × abuse";

/// The domain of an address written `Name <local@domain>` or `local@domain`.
fn domain_of(address: &str) -> String {
    let inner = address
        .rsplit_once('<')
        .map_or(address, |(_, rest)| rest.trim_end_matches('>'));
    inner
        .rsplit_once('@')
        .map(|(_, domain)| domain.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The host of every `scheme://` link in `text`, by the scenario's own reading.
fn link_hosts(text: &str) -> Vec<String> {
    text.match_indices("://")
        .filter_map(|(at, _)| {
            let rest = &text[at + 3..];
            let end = rest
                .find(|c: char| c.is_whitespace() || "/?#\"'<>".contains(c))
                .unwrap_or(rest.len());
            let host = rest[..end].rsplit('@').next()?;
            Some(
                host.split(':')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
            )
        })
        .collect()
}

fn mails_to(env: &Environment, wanted: impl Fn(&str) -> bool) -> Vec<Mail> {
    env.cloud()
        .outbox()
        .all()
        .into_iter()
        .filter(|m| wanted(&m.to))
        .collect()
}

pub(crate) async fn the_clouds_mail_is_no_relay(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let limits = &spec.mail;
    // The ordinary kinds first: a share's link from the environment's own DMS.
    let admin = live::connected(&env).await?;
    let (partner, _) = live::partner(&env).await?;
    live::share(
        &env,
        &admin,
        "core-network",
        &[&partner],
        json!({ "message": "The weekly NOC view, as discussed." }),
    )
    .await?;
    let other = env.accounts().cloud_outsider.clone();
    let mailer = ForeignDms::register(&env, &other, "dms-mailer").await?;

    // The DMS-supplied texts, each in a share of its own to an address of its own.
    let long_message = "A".repeat(limits.message_max_chars * 4);
    let long_name = "B".repeat(limits.sender_name_max_chars * 3);
    let texts: [(&str, &str, &str); 8] = [
        (
            "a plain share",
            "message",
            "The weekly NOC view, as discussed.",
        ),
        (
            "a link in the message",
            "message",
            "Your access expires: sign in at https://evil.example/login",
        ),
        (
            "a bare host in the message",
            "message",
            "Reset your password at evil.example/reset today",
        ),
        (
            "markup in the message",
            "message",
            "<a href=\"https://sharing.dataminer.services.evil.example/\">Open</a>",
        ),
        (
            "an image in the message",
            "message",
            "<img src=\"https://evil.example/pixel.gif\">",
        ),
        (
            "a link as the sender's name",
            "shared_by",
            "IT Support https://evil.example",
        ),
        ("a message beyond the bound", "message", &long_message),
        ("a sender's name beyond the bound", "shared_by", &long_name),
    ];
    let mut statuses = Vec::new();
    for (i, (what, field, value)) in texts.iter().enumerate() {
        let to = format!("text-{i}@{TARGETS}");
        let share_id = format!("text-{i}");
        let fields = [(*field, *value), ("emails", to.as_str())];
        statuses.push((*what, mailer.announce(&share_id, &fields).await?.status));
    }
    ev.saw(
        "the DMS's texts: HTTP status of each announcement",
        &statuses,
    );

    // As many calls of 50 addresses as the limit per DMS allows, and two more.
    let batches = limits.per_dms_per_day / 50 + 2;
    let mut bulk_statuses = Vec::new();
    for batch in 0..batches {
        let list: Vec<String> = (0..50)
            .map(|i| format!("bulk-{batch}-{i}@{TARGETS}"))
            .collect();
        let emails = list.join(",");
        let share_id = format!("bulk-{batch}");
        let reply = mailer
            .announce(&share_id, &[("emails", emails.as_str())])
            .await?;
        bulk_statuses.push(reply.status);
    }
    ev.saw("50-address announcements: HTTP statuses", &bulk_statuses);

    // One address, again and again: share links from a second DMS, and sign-up codes.
    let inbox = format!("inbox@{TARGETS}");
    let second = ForeignDms::register(&env, &other, "dms-mailer-2").await?;
    let page = CloudClient::new(&env)?;
    let mut one_address = Vec::new();
    for round in 0..=limits.per_address_per_day {
        let share = second
            .announce(&format!("again-{round}"), &[("emails", inbox.as_str())])
            .await?;
        let code = page
            .post_form(
                Endpoint::Sharing,
                "account/create/code",
                &[("email", &inbox)],
                None,
            )
            .await?;
        one_address.push((share.status, code.status));
    }
    ev.saw(
        "one address: HTTP statuses of each share and each sign-up code asked",
        &one_address,
    );
    // The address's own organisation shares with it next: another tenant's mails must not
    // have used up what the address may get from it.
    let first_org = env.accounts().cloud_admin.clone();
    let own = ForeignDms::register(&env, &first_org, "dms-of-the-address-org").await?;
    let own_share = own
        .announce("own-share", &[("emails", inbox.as_str())])
        .await?;

    let all = env.cloud().outbox().all();
    let domain = &spec.sharing.mail_domain;
    // The sweep's matrix: each attempt, and what the outbox holds of it.
    for (i, (what, status)) in statuses.iter().enumerate() {
        let to = format!("text-{i}@{TARGETS}");
        let sent = all.iter().filter(|m| m.to == to).count();
        ev.row(
            DIMENSION,
            "share link",
            format!("a foreign DMS's {what}"),
            format!("HTTP {status}; {sent} mail(s) in the outbox"),
        );
    }
    for (batch, status) in bulk_statuses.iter().enumerate() {
        let prefix = format!("bulk-{batch}-");
        let sent = all.iter().filter(|m| m.to.starts_with(&prefix)).count();
        ev.row(
            DIMENSION,
            "share link",
            format!("50 addresses in one call, call {}", batch + 1),
            format!("HTTP {status}; {sent} mail(s) in the outbox"),
        );
    }
    for (round, (share, code)) in one_address.iter().enumerate() {
        ev.row(
            DIMENSION,
            "share link and sign-up code",
            format!("one address, round {}", round + 1),
            format!("HTTP {share} and HTTP {code}"),
        );
    }
    let wrong_from: Vec<(&str, &str)> = all
        .iter()
        .filter(|m| domain_of(&m.from) != *domain)
        .map(|m| (m.to.as_str(), m.from.as_str()))
        .collect();
    ev.expect(
        "every-mail-from-dataminer-services",
        "mails whose From is not in the dataminer.services domain (to, From)",
        wrong_from.is_empty(),
        "none",
        &wrong_from,
    )?;
    let wrong_envelope: Vec<(&str, &str)> = all
        .iter()
        .filter(|m| domain_of(&m.envelope_from) != *domain)
        .map(|m| (m.to.as_str(), m.envelope_from.as_str()))
        .collect();
    ev.expect(
        "envelope-from-dataminer-services",
        "mails whose envelope sender is not in the dataminer.services domain (to, envelope)",
        wrong_envelope.is_empty(),
        "none",
        &wrong_envelope,
    )?;

    let mut carried = Vec::new();
    for mail in &all {
        for host in link_hosts(&mail.body) {
            if !limits.link_hosts.contains(&host) {
                carried.push(format!("{}: a link to {host}", mail.to));
            }
        }
        for planted in PLANTED {
            if mail.body.contains(planted) || mail.subject.contains(planted) {
                carried.push(format!("{}: {planted:?}", mail.to));
            }
        }
        if mail
            .body
            .contains(&"A".repeat(limits.message_max_chars + 1))
        {
            carried.push(format!(
                "{}: a message beyond {} characters",
                mail.to, limits.message_max_chars
            ));
        }
        if (mail.body.clone() + &mail.subject)
            .contains(&"B".repeat(limits.sender_name_max_chars + 1))
        {
            carried.push(format!(
                "{}: a name beyond {} characters",
                mail.to, limits.sender_name_max_chars
            ));
        }
    }
    ev.expect(
        "dms-text-plain-bounded-and-linking-only-to-the-cloud",
        "what the mails carried beyond plain, bounded text and links to the cloud's own hosts",
        carried.is_empty(),
        &format!(
            "links only to {:?}, no planted link or markup, no text beyond its bound",
            limits.link_hosts
        ),
        &carried,
    )?;

    let plain = mails_to(&env, |to| to == format!("text-0@{TARGETS}"));
    let attributed = plain
        .iter()
        .any(|m| m.body.contains(&other.organization) && m.body.contains(&mailer.dms_id));
    ev.expect(
        "mail-names-the-verified-organisation-and-dms",
        "the plain share's mail names the organisation its DMS was approved into, and the DMS",
        attributed,
        &format!(
            "{:?} and {:?} in the body",
            other.organization, mailer.dms_id
        ),
        plain.iter().map(|m| &m.body).collect::<Vec<_>>(),
    )?;

    let by_mailer = mails_to(&env, |to| {
        (to.starts_with("bulk-") || to.starts_with("text-")) && to.ends_with(TARGETS)
    })
    .len();
    ev.expect(
        "mails-per-dms-limited",
        "mails the cloud sent for one DMS within a day",
        by_mailer <= limits.per_dms_per_day,
        &format!("at most {}", limits.per_dms_per_day),
        by_mailer,
    )?;
    // Each sender's mails to the address, told apart by what the outbox shows of them: the
    // sign-up codes, and the shares that name the other organisation.
    let to_inbox = mails_to(&env, |to| to.eq_ignore_ascii_case(&inbox));
    let codes = to_inbox
        .iter()
        .filter(|m| m.body.contains("create a dataminer.services account"))
        .count();
    let from_other = to_inbox
        .iter()
        .filter(|m| m.body.contains(&other.organization))
        .count();
    ev.expect(
        "mails-per-address-limited",
        "mails one address got within a day from one sender: the other organisation's DMS, the sign-up page",
        from_other <= limits.per_address_per_day && codes <= limits.per_address_per_day,
        &format!("at most {} from each", limits.per_address_per_day),
        json!({ "from_the_other_dms": from_other, "sign_up_codes": codes }),
    )?;
    let from_own = to_inbox
        .iter()
        .filter(|m| m.body.contains(&first_org.organization))
        .count();
    ev.expect(
        "another-tenant-cannot-use-up-an-address",
        "the address's own organisation's share after another's DMS mailed it to its bound: HTTP status, mails that reached the address",
        own_share.status == 201 && from_own == 1,
        "201, one mail",
        json!({ "status": own_share.status, "mails": from_own }),
    )
}
