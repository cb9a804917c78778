//! NET-3: only dataminer.services' names, only on their published addresses. The world's
//! name service knows other names too (the scenario's, below); a connection to an address
//! with no route is a stray the connector records before it sends it to the sinkhole.

use std::net::IpAddr;
use std::time::Duration;

use mocks::agent::CloudUrls;
use mocks::{Environment, Options};

use super::wire::is_under;
use crate::clients::DmaReply;
use crate::steps;
use crate::{Ctx, Evidence, Failure, oracle};

/// A name of dataminer.services' domain that the world resolves to an unpublished address.
const RESOLVES_ELSEWHERE: (&str, &str) = ("status.dataminer.services", "198.51.100.7");
/// Another domain's name.
const OTHER_DOMAIN: (&str, &str) = ("connection.dataminer.example", "203.0.113.80");
const LOOKALIKES: [(&str, &str); 2] = [
    ("dataminer.services.evil.example", "203.0.113.66"),
    ("xdataminer.services", "203.0.113.67"),
];
/// Where the hostile front end redirects to.
const COLLECTOR: (&str, &str) = ("collector.evil.example", "203.0.113.20");
/// An address no name of the domain resolves to.
const IP_LITERAL: &str = "203.0.113.10";

/// The world's other names, as the scenario sets them.
fn foreign_names() -> Result<Vec<(String, IpAddr)>, Failure> {
    [RESOLVES_ELSEWHERE, OTHER_DOMAIN, COLLECTOR]
        .into_iter()
        .chain(LOOKALIKES)
        .map(|(name, address)| {
            let address = address
                .parse()
                .map_err(|_| Failure::Harness(format!("{address} is not an address")))?;
            Ok((name.to_owned(), address))
        })
        .collect()
}

fn options(ctx: &Ctx, connection_url: Option<String>) -> Result<Options, Failure> {
    let spec = oracle::spec()?;
    Ok(Options {
        foreign_names: foreign_names()?,
        agent_urls: connection_url.map(|connection| CloudUrls {
            connection,
            tunnel: spec.hosts.tunnel_url.clone(),
        }),
        ..ctx.options()
    })
}

/// No connection was asked for to an address nothing is published on.
fn expect_no_strays(env: &Environment, ev: &Evidence, when: &str) -> Result<(), Failure> {
    let strays = env.resolver().strays();
    ev.expect(
        "no-connection-to-unpublished-address",
        &format!("{when}: connections asked for to unpublished addresses"),
        strays.is_empty(),
        "none",
        strays,
    )
}

/// Every name the DMS looked up is dataminer.services'.
fn expect_only_domain_lookups(env: &Environment, ev: &Evidence, when: &str) -> Result<(), Failure> {
    let domain = &oracle::spec()?.hosts.domain;
    let foreign: Vec<String> = env
        .resolver()
        .lookups()
        .into_iter()
        .map(|l| l.name)
        .filter(|name| !is_under(name, domain))
        .collect();
    ev.expect(
        "no-foreign-name-looked-up",
        &format!("{when}: names outside {domain} the DMS looked up"),
        foreign.is_empty(),
        "none",
        foreign,
    )
}

/// The Administrator asks to connect with the agent configured for `url`; the agent must
/// refuse before anything leaves for `host`, and say so.
async fn expect_refused(ctx: &Ctx, url: String, host: &str) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let env = ctx
        .environment_with(options(ctx, Some(url.clone()))?)
        .await?;
    let reply = steps::ask_dms_to_connect(&env).await?;
    env.settle().await;
    let when = format!("with the cloud URL {url}");
    expect_no_strays(&env, &ev, &when)?;
    let sent = env.dms_egress().total();
    ev.expect_eq(
        "nothing-sent-to-refused-destination",
        &format!("{when}: connections the DMS opened"),
        0,
        sent.connections,
    )?;
    expect_only_domain_lookups(&env, &ev, &when)?;
    let told = matches!(&reply, DmaReply::Error { message, .. }
        if message.contains(host) && message.to_ascii_lowercase().contains("refus"));
    ev.expect(
        "operator-told-destination-refused",
        &format!("{when}: the DMA's answer to ConnectToCloud"),
        told,
        &format!("an error that names {host} and says it is refused"),
        reply,
    )?;
    env.stop().await;
    Ok(())
}

pub(super) async fn reaches_only_published_addresses(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let env = ctx.environment_with(options(&ctx, None)?).await?;
    steps::connect_dms(&env).await?;
    // A renewal and tunnels dialled again: every kind of connection the DMS makes.
    env.advance(Duration::from_secs(25 * 3600)).await;
    expect_no_strays(&env, &ev, "connected for a simulated day")?;
    let published: Vec<&String> = spec
        .published_addresses
        .primary
        .iter()
        .chain(&spec.published_addresses.backup)
        .collect();
    let lookups = env.resolver().lookups();
    let off: Vec<_> = lookups
        .iter()
        .filter(|l| {
            !is_under(&l.name, &spec.hosts.domain)
                || !l
                    .answered
                    .is_some_and(|a| published.iter().any(|p| **p == a.ip().to_string()))
        })
        .collect();
    ev.expect(
        "lookups-answered-with-published-addresses",
        "lookups of the connected DMS not of a dataminer.services name answered with a published address",
        off.is_empty() && !lookups.is_empty(),
        "none, out of at least one lookup",
        (&off, lookups.len()),
    )?;
    let hosts = [
        &spec.hosts.connection,
        &spec.hosts.tunnel,
        &spec.hosts.sharing,
    ];
    let elsewhere: Vec<_> = env
        .dms_egress()
        .connections()
        .into_iter()
        .filter(|c| !hosts.iter().any(|h| h.eq_ignore_ascii_case(&c.destination)))
        .collect();
    ev.expect(
        "dms-connects-only-to-published-names",
        "connections of the connected DMS to anything but the published names",
        elsewhere.is_empty(),
        "none",
        elsewhere,
    )?;
    env.stop().await;

    expect_refused(&ctx, format!("https://{IP_LITERAL}/"), IP_LITERAL).await?;
    expect_refused(&ctx, format!("https://{}/", OTHER_DOMAIN.0), OTHER_DOMAIN.0).await?;
    let elsewhere = RESOLVES_ELSEWHERE.0;
    expect_refused(&ctx, format!("https://{elsewhere}/"), elsewhere).await
}

pub(super) async fn refuses_lookalike_names(ctx: Ctx) -> Result<(), Failure> {
    for (name, _) in LOOKALIKES {
        expect_refused(&ctx, format!("https://{name}/"), name).await?;
    }
    Ok(())
}

pub(super) async fn follows_no_redirect(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let target = format!("https://{}/oauth/device", COLLECTOR.0);
    let env = ctx
        .environment_with(Options {
            connection_redirects_to: Some(target.clone()),
            ..options(&ctx, None)?
        })
        .await?;
    let reply = steps::ask_dms_to_connect(&env).await?;
    env.settle().await;
    let when = format!("after a redirect to {target}");
    expect_no_strays(&env, &ev, &when)?;
    expect_only_domain_lookups(&env, &ev, &when)?;
    let told = matches!(&reply, DmaReply::Error { message, .. }
        if message.contains(COLLECTOR.0) && message.to_ascii_lowercase().contains("redirect"));
    ev.expect(
        "operator-told-redirect-refused",
        "the DMA's answer to ConnectToCloud",
        told,
        &format!("an error that names the redirect to {}", COLLECTOR.0),
        reply,
    )?;
    env.stop().await;
    Ok(())
}
