//! MAIL-2 and DOS-1 on the mail bounds' ways around: an organisation that approves itself as
//! many DMSs as it likes (twenty here), every spelling that reaches one mailbox (brackets,
//! a quoted local part, a trailing dot, another case, a list separator), and the DMSs' full
//! days together. Judged on the outbox, with the scenario's own reading of which mailboxes
//! each mail reached; the bounds are `fixtures/spec.json`'s.

use std::collections::BTreeMap;

use serde_json::json;

use mocks::cloud::Endpoint;

use crate::clients::{CloudClient, ForeignDms};
use crate::{Ctx, Failure, oracle};

/// Where the attacker's targets are: every address the scenario makes up is under it.
const TARGETS: &str = "bound-victim.example";
/// How many DMSs the organisation approves itself.
const FLEET: usize = 20;
/// The sweep's dimension, as its matrix names it.
const DIMENSION: &str = "mail bounds × ways around them";

/// The mailboxes a mail addressed to `to` reaches, as a mail server reads it: each address of
/// a list (`,` or `;`), its display name and brackets dropped, quotes around the local part
/// dropped, a trailing dot of the domain dropped, in lowercase.
fn mailboxes(to: &str) -> Vec<String> {
    to.split([',', ';'])
        .map(|one| {
            let inner = one
                .rsplit_once('<')
                .map_or(one, |(_, rest)| rest.trim_end_matches('>'));
            inner
                .replace('"', "")
                .trim()
                .trim_end_matches('.')
                .to_ascii_lowercase()
        })
        .filter(|m| !m.is_empty())
        .collect()
}

pub(crate) async fn mail_bounds_count_mailboxes_and_organisations(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let limits = &spec.mail;
    let other = env.accounts().cloud_outsider.clone();
    let mut fleet = Vec::new();
    for i in 0..FLEET {
        fleet.push(ForeignDms::register(&env, &other, &format!("dms-fleet-{i}")).await?);
    }

    // One DMS mails a mailbox to its bound, then in every other spelling of it.
    let mailbox = format!("same@{TARGETS}");
    let mut spelled = Vec::new();
    for round in 0..limits.per_address_per_day {
        let reply = fleet[0]
            .announce(&format!("same-{round}"), &[("emails", mailbox.as_str())])
            .await?;
        spelled.push((mailbox.clone(), reply.status));
    }
    let spellings = [
        format!("<same@{TARGETS}>"),
        format!("\"same\"@{TARGETS}"),
        format!("same@{TARGETS}."),
        format!("SAME@{}", TARGETS.to_uppercase()),
        format!("Same <same@{TARGETS}>"),
        format!("same@{TARGETS};x@evil.example"),
    ];
    for (i, spelling) in spellings.iter().enumerate() {
        let reply = fleet[0]
            .announce(&format!("spelled-{i}"), &[("emails", spelling.as_str())])
            .await?;
        spelled.push((spelling.clone(), reply.status));
    }

    // One source asks sign-up codes for a newcomer's address to its bound, then in every
    // other spelling of it.
    let newcomer = format!("newcomer@{TARGETS}");
    let page = CloudClient::new(&env)?;
    let per_source = spec.sign_up.mails_per_address_and_source_per_day;
    let typed = (0..per_source).map(|_| newcomer.clone()).chain(
        spellings
            .iter()
            .map(|s| s.replace("same", "newcomer").replace("SAME", "NEWCOMER")),
    );
    for spelling in typed {
        let reply = page
            .post_form(
                Endpoint::Sharing,
                "account/create/code",
                &[("email", &spelling)],
                None,
            )
            .await?;
        spelled.push((format!("sign-up code for {spelling}"), reply.status));
    }

    // Every DMS of the organisation mails one address once.
    let ceo = format!("ceo@{TARGETS}");
    let mut by_fleet = Vec::new();
    for (i, dms) in fleet.iter().enumerate() {
        let reply = dms
            .announce(&format!("ceo-{i}"), &[("emails", ceo.as_str())])
            .await?;
        by_fleet.push(reply.status);
    }

    // Full days: three 50-address shares from each of eight DMSs, more than the
    // organisation's bound allows.
    let mut bulk = Vec::new();
    for (d, dms) in fleet.iter().enumerate().skip(2).take(8) {
        for batch in 0..3 {
            let list: Vec<String> = (0..50)
                .map(|i| format!("bulk-{d}-{batch}-{i}@{TARGETS}"))
                .collect();
            let emails = list.join(",");
            let reply = dms
                .announce(&format!("bulk-{batch}"), &[("emails", emails.as_str())])
                .await?;
            bulk.push(reply.status);
        }
    }

    let all = env.cloud().outbox().all();
    let reaching = |wanted: &str| {
        all.iter()
            .filter(|m| mailboxes(&m.to).iter().any(|b| b == wanted))
            .count()
    };
    let mut per_spelling: BTreeMap<&str, usize> = BTreeMap::new();
    for mail in &all {
        if mailboxes(&mail.to).contains(&mailbox) {
            *per_spelling.entry(mail.to.as_str()).or_default() += 1;
        }
    }
    for (spelling, status) in &spelled {
        ev.row(
            DIMENSION,
            "one mailbox",
            format!("spelled {spelling:?}"),
            format!("HTTP {status}"),
        );
    }
    let to_mailbox = reaching(&mailbox);
    let to_newcomer = reaching(&newcomer);
    ev.expect(
        "address-spellings-count-as-one-mailbox",
        "mails that reached one mailbox in a day from one organisation (by how the address was spelled) and sign-up codes that reached another from one source",
        to_mailbox <= limits.per_address_per_day
            && to_newcomer <= per_source
            && reaching("x@evil.example") == 0,
        &format!(
            "at most {} share mails and {per_source} sign-up codes from one source, none to an address smuggled after a separator",
            limits.per_address_per_day
        ),
        json!({
            "share_mails": to_mailbox,
            "by_spelling": per_spelling,
            "sign_up_codes": to_newcomer,
        }),
    )?;

    for (i, status) in by_fleet.iter().enumerate() {
        ev.row(
            DIMENSION,
            "one address, the organisation's DMSs",
            format!("DMS {} of {FLEET}", i + 1),
            format!("HTTP {status}"),
        );
    }
    let to_ceo = reaching(&ceo);
    ev.expect(
        "mails-per-address-per-organisation-limited",
        "mails one address got in a day from one organisation's twenty DMSs, one share each",
        to_ceo <= limits.per_address_per_day,
        &format!("at most {}", limits.per_address_per_day),
        json!({ "mails": to_ceo, "answers": by_fleet }),
    )?;

    ev.row(
        DIMENSION,
        "the organisation's day",
        format!("{} shares of 50 addresses from eight DMSs", bulk.len()),
        format!("HTTP {bulk:?}"),
    );
    // Every mail under the targets' domain is the organisation's but the sign-up codes.
    let by_organisation = all
        .iter()
        .filter(|m| m.to.contains(TARGETS) && !mailboxes(&m.to).contains(&newcomer))
        .count();
    ev.expect(
        "mails-per-organisation-limited",
        "mails one organisation's DMSs made the cloud send in a day",
        by_organisation <= limits.per_organization_per_day,
        &format!("at most {}", limits.per_organization_per_day),
        json!({ "mails": by_organisation, "bulk_answers": bulk }),
    )
}

#[cfg(test)]
mod tests {
    use super::mailboxes;

    #[test]
    fn every_spelling_reads_as_its_mailbox() {
        for spelling in [
            "<same@x.example>",
            "\"same\"@x.example",
            "same@x.example.",
            "SAME@X.EXAMPLE",
            "Same <same@x.example>",
        ] {
            assert_eq!(mailboxes(spelling), vec!["same@x.example"], "{spelling}");
        }
        assert_eq!(
            mailboxes("same@x.example;x@evil.example"),
            vec!["same@x.example", "x@evil.example"]
        );
    }
}
