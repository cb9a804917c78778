//! The agent as a TLS client, judged by the ClientHellos the cloud recorded from the DMS and
//! by whether anything reached the cloud after them.

use std::time::Duration;

use mocks::agent::{AgentError, CloudUrls};
use mocks::cloud::{CertificateProblem, CloudVersions};
use mocks::{EnvError, Environment};
use wire::tls::{ClientHello, Version, parse_client_hello};

use crate::clients::DmaReply;
use crate::steps::{self, ask_dms_to_connect, first_flights_from_dms};
use crate::{Ctx, Evidence, Failure, oracle};

/// The versions offered in each ClientHello the DMS sent, per endpoint.
fn offers_from_dms(
    env: &Environment,
    ev: &Evidence,
) -> Result<Vec<(String, ClientHello)>, Failure> {
    let flights = first_flights_from_dms(env);
    ev.expect(
        "clienthellos-cloud-recorded-from-dms",
        "ClientHellos the cloud recorded from the DMS",
        !flights.is_empty(),
        "at least one",
        flights.len(),
    )?;
    let mut offers = Vec::new();
    for flight in flights {
        let hello = parse_client_hello(&flight.bytes).map_err(|e| {
            Failure::violation(
                "dms-first-flight",
                format!("the DMS's first flight to {}", flight.endpoint),
                "a ClientHello",
                e.to_string(),
            )
        })?;
        offers.push((flight.endpoint.to_owned(), hello));
    }
    let shown: Vec<String> = offers
        .iter()
        .map(|(endpoint, hello)| {
            let names: Vec<&str> = hello.offered_versions().iter().map(|v| v.name()).collect();
            format!(
                "{endpoint}: {} ({})",
                names.join(", "),
                if hello.supported_versions.is_some() {
                    "supported_versions"
                } else {
                    "legacy_version only: the floor shows in what it accepts"
                }
            )
        })
        .collect();
    ev.saw("versions offered in each ClientHello from the DMS", shown);
    Ok(offers)
}

/// Each hello names TLS 1.2 as its highest version, and a `supported_versions` list, when
/// there is one, names nothing else. A hello without the list lets a server go lower: whether
/// the agent takes that is judged by a TLS 1.0/1.1 server (`gives_up_on_tls13_only`, and the
/// TLS paths sweep), not read from the hello.
fn expect_only_tls12(ev: &Evidence, offers: &[(String, ClientHello)]) -> Result<(), Failure> {
    let others: Vec<String> = offers
        .iter()
        .flat_map(|(endpoint, hello)| {
            let listed = hello
                .supported_versions
                .as_ref()
                .map(|_| hello.offered_versions());
            let mut wrong: Vec<String> = listed
                .unwrap_or_default()
                .into_iter()
                .filter(|v| *v != Version::Tls12)
                .map(|v| format!("{endpoint}: {}", v.name()))
                .collect();
            if hello.highest_version() != Some(Version::Tls12) {
                wrong.push(format!(
                    "{endpoint}: highest {:?}",
                    hello.highest_version().map(Version::name)
                ));
            }
            wrong
        })
        .collect();
    ev.expect_eq(
        "agent-offers-only-tls12",
        "versions other than TLS 1.2 the DMS offered",
        Vec::<String>::new(),
        others,
    )
}

pub(super) async fn offers_only_tls12(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let offers = offers_from_dms(&env, &ev)?;
    let mut reached: Vec<&str> = offers.iter().map(|(e, _)| e.as_str()).collect();
    reached.sort_unstable();
    reached.dedup();
    ev.expect_eq(
        "endpoints-dms-clienthellos-went",
        "endpoints the DMS's ClientHellos went to",
        {
            let hosts = &oracle::spec()?.hosts;
            vec![hosts.connection.as_str(), hosts.tunnel.as_str()]
        },
        reached,
    )?;
    expect_only_tls12(&ev, &offers)
}

pub(super) async fn gives_up_on_tls13_only(ctx: Ctx) -> Result<(), Failure> {
    let mut options = ctx.options();
    options.cloud_tls.versions = CloudVersions::Tls13Only;
    let env = ctx.environment_with(options).await?;
    let ev = ctx.evidence();
    let reply = ask_dms_to_connect(&env).await?;
    // Time for retries: a fallback would show up as another hello with another version.
    steps::let_time_pass(&env, Duration::from_secs(3600), 12).await;
    let offers = offers_from_dms(&env, &ev)?;
    expect_only_tls12(&ev, &offers)?;
    expect_nothing_reached_the_cloud(&env, &ev)?;
    expect_refused(&ev, &reply)
}

pub(super) async fn refuses_untrusted_issuer(ctx: Ctx) -> Result<(), Failure> {
    refuses_certificate(ctx, CertificateProblem::UntrustedIssuer).await
}

pub(super) async fn refuses_wrong_host(ctx: Ctx) -> Result<(), Failure> {
    refuses_certificate(ctx, CertificateProblem::WrongHost).await
}

pub(super) async fn refuses_expired(ctx: Ctx) -> Result<(), Failure> {
    refuses_certificate(ctx, CertificateProblem::Expired).await
}

pub(super) async fn refuses_not_yet_valid(ctx: Ctx) -> Result<(), Failure> {
    refuses_certificate(ctx, CertificateProblem::NotYetValid).await
}

/// The cloud presents a bad certificate; the Administrator asks the DMS to connect. The agent
/// must have tried (a ClientHello is on record), been refused, and sent no request.
async fn refuses_certificate(ctx: Ctx, problem: CertificateProblem) -> Result<(), Failure> {
    let mut options = ctx.options();
    options.cloud_tls.certificate = problem;
    let env = ctx.environment_with(options).await?;
    let ev = ctx.evidence();
    ev.saw("certificate the cloud presents", format!("{problem:?}"));
    let reply = ask_dms_to_connect(&env).await?;
    let tried = first_flights_from_dms(&env).len();
    if tried == 0 {
        return Err(Failure::precondition(
            "the DMS tries the cloud",
            "at least one ClientHello on the cloud's record",
            tried,
        ));
    }
    expect_nothing_reached_the_cloud(&env, &ev)?;
    expect_refused(&ev, &reply)
}

pub(super) async fn refuses_plaintext_urls(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let hosts = &oracle::spec()?.hosts;
    let secure = |scheme: &str, host: &str| format!("{scheme}://{host}/");
    let cases = [
        CloudUrls {
            connection: secure("http", &hosts.connection),
            tunnel: secure("wss", &hosts.tunnel),
        },
        CloudUrls {
            connection: secure("https", &hosts.connection),
            tunnel: secure("ws", &hosts.tunnel),
        },
    ];
    for urls in cases {
        let plaintext = if urls.connection.starts_with("http:") {
            urls.connection.clone()
        } else {
            urls.tunnel.clone()
        };
        let mut options = ctx.options();
        options.agent_urls = Some(urls);
        match Environment::start_with(options).await {
            Err(EnvError::Agent(AgentError::PlaintextUrl(url))) => ev.expect_eq(
                "agent-refuses-a-plaintext-url",
                &format!("the URL the agent refused to start with ({plaintext})"),
                plaintext.as_str(),
                url.as_str(),
            )?,
            Err(other) => {
                return Err(Failure::precondition(
                    format!("starting the agent with {plaintext}"),
                    "started, or refused for the plaintext URL",
                    other.to_string(),
                ));
            }
            Ok(env) => {
                // It started: the far side says whether it then spoke plaintext. The connect
                // flow is walked as far as it goes; the tunnel is dialled only after approval.
                let _ = steps::connect_dms(&env).await;
                let plaintext_flights: Vec<String> = first_flights_from_dms(&env)
                    .into_iter()
                    .filter(|f| f.bytes.first() != Some(&TLS_HANDSHAKE))
                    .map(|f| {
                        format!(
                            "{}: {}",
                            f.endpoint,
                            String::from_utf8_lossy(&f.bytes[..f.bytes.len().min(40)])
                        )
                    })
                    .collect();
                ev.expect_eq(
                    "agent-refuses-a-plaintext-url",
                    &format!("first flights the cloud saw from an agent started with {plaintext} that did not open a TLS handshake"),
                    Vec::<String>::new(),
                    plaintext_flights,
                )?;
                ev.expect(
                    "agent-refuses-a-plaintext-url",
                    &format!("starting the agent with {plaintext}"),
                    false,
                    "refused, naming the URL",
                    "the agent started",
                )?;
            }
        }
    }
    Ok(())
}

/// The first byte of a TLS handshake record (RFC 5246 §6.2.1, content type 22).
const TLS_HANDSHAKE: u8 = 0x16;

fn expect_refused(ev: &Evidence, reply: &DmaReply) -> Result<(), Failure> {
    ev.expect(
        "dma-reports-the-refusal",
        "ConnectToCloud as Administrator",
        matches!(reply, DmaReply::Error { .. }),
        "an error: the agent could not reach the cloud safely",
        reply,
    )
}

fn expect_nothing_reached_the_cloud(env: &Environment, ev: &Evidence) -> Result<(), Failure> {
    ev.expect_eq(
        "agent-sends-nothing-to-an-unsafe-server",
        "requests the cloud received",
        0,
        env.cloud().requests().count(),
    )
}
