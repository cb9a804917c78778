//! The cloud's endpoints, judged from outside by the probe and by plaintext clients.

use std::time::Duration;

use mocks::Environment;
use mocks::cloud::Endpoint;
use probes::{ProbeOptions, Refusal, TlsReport, Verdict, probe_tls};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wire::tls::{Event, ServerFlight, alert};

use crate::clients::CloudClient;
use crate::steps::PROMPTLY;
use crate::{Ctx, Failure, oracle};

async fn probe(env: &Environment, endpoint: Endpoint) -> Result<TlsReport, Failure> {
    let options = ProbeOptions {
        sni: Some(endpoint.host().to_owned()),
        ..ProbeOptions::default()
    };
    let report = probe_tls(&env.cloud().addr(endpoint).to_string(), &options)
        .await
        .map_err(|e| Failure::Harness(format!("probe of {}: {e}", endpoint.host())))?;
    // An endpoint that answers no attempt in TLS leaves nothing to judge about TLS versions.
    if !report.speaks_tls {
        return Err(Failure::precondition(
            format!("probing {}", endpoint.host()),
            "an endpoint that answers in TLS",
            format!("{:?}", report.premise),
        ));
    }
    Ok(report)
}

/// TLS-1's refusal, in one of its forms: a protocol_version or handshake_failure alert, or a
/// close before any ServerHello. A timeout, a non-TLS answer or another alert is not one.
fn refused_as_the_spec_says(verdict: &Verdict) -> bool {
    matches!(
        verdict.refusal(),
        Some(
            Refusal::ProtocolVersionAlert
                | Refusal::HandshakeFailureAlert
                | Refusal::ClosedBeforeServerHello
        )
    )
}

pub(super) async fn only_tls12(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let tls = &oracle::spec()?.tls;
    let client = CloudClient::new(&env)?;
    for endpoint in Endpoint::ALL {
        let host = endpoint.host();
        let report = probe(&env, endpoint).await?;
        ev.saw(
            format!("{host}: the probe's verdict per version"),
            report
                .versions
                .iter()
                .map(|v| format!("{}: {}", v.version.name(), v.verdict.name()))
                .collect::<Vec<_>>(),
        );
        // Each version as the spec wants it: the allowed ones accepted, the others refused in
        // a refusal's form. Anything else (accepted, no answer, garbage) is listed.
        let wrong: Vec<String> = report
            .versions
            .iter()
            .filter_map(|v| {
                let name = v.version.name();
                let allowed = tls.versions_allowed.iter().any(|a| a == name);
                let refused = tls.versions_refused.iter().any(|r| r == name);
                let as_wanted = if allowed {
                    v.accepted
                } else if refused {
                    refused_as_the_spec_says(&v.verdict)
                } else {
                    true
                };
                (!as_wanted).then(|| format!("{name}: {}", v.verdict.name()))
            })
            .collect();
        ev.expect_eq(
            "cloud-speaks-only-tls12",
            &format!("{host}: versions not answered as TLS-1 says"),
            Vec::<String>::new(),
            wrong,
        )?;
        let (version, suite) = client.complete_tls12_handshake(endpoint).await?;
        ev.saw(
            format!("{host}: a complete TLS 1.2 handshake negotiated"),
            format!("{version} {suite}"),
        );
    }
    Ok(())
}

pub(super) async fn forward_secret_aead_only(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let allowed = &oracle::spec()?.tls.suites_allowed;
    for endpoint in Endpoint::ALL {
        let host = endpoint.host();
        let report = probe(&env, endpoint).await?;
        let accepted = report.accepted_suites();
        let names: Vec<&str> = accepted.iter().map(|s| s.name.as_str()).collect();
        if names.is_empty() {
            return Err(Failure::precondition(
                format!("probing {host}'s TLS 1.2 suites"),
                "at least one accepted",
                &report.tls12_suites,
            ));
        }
        ev.saw(format!("{host}: TLS 1.2 suites accepted"), &names);
        let weak: Vec<&str> = names
            .into_iter()
            .filter(|name| !allowed.iter().any(|a| a == name))
            .collect();
        ev.expect_eq(
            "cloud-suites-are-forward-secret-aead",
            &format!("{host}: accepted suites outside TLS-4's ECDHE with AEAD"),
            Vec::<&str>::new(),
            weak,
        )?;
    }
    Ok(())
}

pub(super) async fn no_plaintext(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    for endpoint in Endpoint::ALL {
        let host = endpoint.host();
        let request = match endpoint {
            Endpoint::Tunnel => format!(
                "GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            ),
            Endpoint::Connection | Endpoint::Sharing => {
                format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
            }
        };
        let answer = plaintext_exchange(&env, endpoint, &request).await?;
        let shown = describe(&answer);
        let scheme = if endpoint == Endpoint::Tunnel {
            "ws://"
        } else {
            "http://"
        };
        ev.expect(
            "cloud-answers-no-plaintext",
            &format!("{scheme}{host}: what came back"),
            !answer.starts_with(b"HTTP/"),
            "no HTTP answer (a TLS alert or a closed connection)",
            &shown,
        )?;
    }
    Ok(())
}

/// What a plaintext client got back, in words: a TLS alert by name, or the bytes themselves.
fn describe(answer: &[u8]) -> String {
    if answer.is_empty() {
        return "the connection closed without a byte".to_owned();
    }
    let mut flight = ServerFlight::new();
    flight.push(answer);
    match flight.next_event() {
        Ok(Some(Event::Alert { level, description })) => {
            format!(
                "a TLS alert: {} {}",
                alert::level_name(level),
                alert::alert_name(description)
            )
        }
        _ => String::from_utf8_lossy(&answer[..answer.len().min(60)]).into_owned(),
    }
}

/// Sends `request` in the clear and reads what comes back until the server closes, stops
/// talking, or 4 KiB arrived.
async fn plaintext_exchange(
    env: &Environment,
    endpoint: Endpoint,
    request: &str,
) -> Result<Vec<u8>, Failure> {
    let harness = |e: std::io::Error| Failure::Harness(format!("plaintext client: {e}"));
    let mut socket = tokio::net::TcpStream::connect(env.cloud().addr(endpoint))
        .await
        .map_err(harness)?;
    socket
        .write_all(request.as_bytes())
        .await
        .map_err(harness)?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    let reading = async {
        while answer.len() < 4096 {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
            }
        }
    };
    // A server that keeps a plaintext socket open without answering has refused it too.
    let _ = tokio::time::timeout(PROMPTLY.min(Duration::from_secs(2)), reading).await;
    Ok(answer)
}
