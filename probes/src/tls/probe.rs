//! The order of questions: versions one by one, then TLS 1.2 suites one by one.

use std::time::Duration;

use wire::tls::{TLS12_SUITES, TLS13_SUITES, Version};

use super::certificates::summarise;
use super::exchange::{Endpoint, Outcome};
use super::target::Target;
use super::{Premise, ProbeError, SuiteResult, TlsReport, VersionResult};

#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Overrides the SNI derived from the target.
    pub sni: Option<String>,
    /// The bound on each resolution, each connect and each write of a hello.
    pub timeout: Duration,
    /// The bound on reading each answer, from the hello written to the last byte read: what
    /// a server may take before its silence is judged `NoAnswer`.
    pub read_timeout: Duration,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            sni: None,
            timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(5),
        }
    }
}

/// Probes `target` (`HOST:PORT`). Connects only to the one address the target resolves to,
/// at most once per version, once per TLS 1.2 suite, and once to pick the address: about
/// fifty connections in all, each bounded by `options.timeout` to connect and write and by
/// `options.read_timeout` to read.
pub async fn probe_tls(target: &str, options: &ProbeOptions) -> Result<TlsReport, ProbeError> {
    let parsed = Target::parse(target)?;
    let sni = options.sni.clone().or_else(|| parsed.server_name());
    let candidates = parsed.resolve(options.timeout).await?;
    let endpoint = first_reachable(target, &candidates, sni, options).await?;

    let mut versions = Vec::with_capacity(Version::ALL.len());
    let mut certificates = Vec::new();
    for version in Version::ALL {
        let suites = TLS12_SUITES
            .iter()
            .chain(TLS13_SUITES)
            .filter(|s| s.usable_with(version))
            .map(|s| s.code)
            .collect();
        let outcome = endpoint
            .ask(version, suites, version == Version::Tls12)
            .await?;
        certificates.extend(outcome.chain.iter().map(|der| summarise(der)));
        versions.push(VersionResult {
            version,
            accepted: chose(&outcome, version, None),
            answer: outcome.answer,
            verdict: outcome.verdict,
        });
    }

    let tls12_accepted = versions
        .iter()
        .any(|v| v.version == Version::Tls12 && v.accepted);
    let mut tls12_suites = Vec::new();
    if tls12_accepted {
        for suite in TLS12_SUITES {
            let outcome = endpoint
                .ask(Version::Tls12, vec![suite.code], false)
                .await?;
            tls12_suites.push(SuiteResult {
                code: suite.code,
                name: suite.name.to_owned(),
                accepted: chose(&outcome, Version::Tls12, Some(suite.code)),
                forward_secret_aead: suite.forward_secret && suite.aead,
                verdict: outcome.verdict,
            });
        }
    }

    let premise = Premise::of(versions.iter().map(|v| &v.verdict));
    Ok(TlsReport {
        target: target.to_owned(),
        address: endpoint.address,
        sni: endpoint.sni,
        speaks_tls: premise.holds(),
        premise,
        versions,
        tls12_suites,
        certificates,
    })
}

/// Whether the server chose `version` (and `suite`, when given). A server that picks another
/// version than the one offered has refused the one offered, however politely.
fn chose(outcome: &Outcome, version: Version, suite: Option<u16>) -> bool {
    outcome.verdict.server_hello().is_some_and(|hello| {
        hello.selected_version == version.code()
            && suite.is_none_or(|code| hello.cipher_suite == code)
    })
}

/// The first address that takes a TCP connection: a name may resolve to an IPv6 address the
/// server does not listen on, and every later question must go to the same place.
async fn first_reachable(
    target: &str,
    candidates: &[std::net::SocketAddr],
    sni: Option<String>,
    options: &ProbeOptions,
) -> Result<Endpoint, ProbeError> {
    let mut last_error = None;
    for &address in candidates {
        let endpoint = Endpoint {
            address,
            sni: sni.clone(),
            timeout: options.timeout,
            read_timeout: options.read_timeout,
        };
        match endpoint.connect().await {
            Ok(_) => return Ok(endpoint),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| ProbeError::NoAddress {
        host: target.to_owned(),
    }))
}
