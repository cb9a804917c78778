//! How the TLS paths sweep judges one cell (path × bad server): on the bad server's side of
//! the wire. The hellos are what the server received — from the cloud's record of first
//! flights on a direct path, from the bytes the DMZ proxy relayed upstream on a proxied one
//! (there the cloud sees the proxy's address, not the DMS's) — and the requests are what the
//! cloud's record says arrived.

use mocks::cloud::{CertificateProblem, CloudTls, CloudVersions};
use mocks::world::net::DmzPolicy;
use mocks::{Dmz, Environment, Options};
use wire::tls::parse_client_hello;

use crate::steps::first_flights_from_dms;
use crate::{Ctx, Evidence, Failure, oracle};

pub(super) const DIMENSION: &str = "agent TLS paths × bad servers";

/// Every bad server, with the name the matrix shows.
pub(super) fn bad_servers() -> Vec<(&'static str, CloudTls)> {
    let cert = |certificate| CloudTls {
        certificate,
        ..CloudTls::default()
    };
    let versions = |versions| CloudTls {
        versions,
        ..CloudTls::default()
    };
    vec![
        (
            "untrusted issuer",
            cert(CertificateProblem::UntrustedIssuer),
        ),
        ("wrong host name", cert(CertificateProblem::WrongHost)),
        ("expired certificate", cert(CertificateProblem::Expired)),
        (
            "not-yet-valid certificate",
            cert(CertificateProblem::NotYetValid),
        ),
        ("TLS 1.3 only", versions(CloudVersions::Tls13Only)),
        ("TLS 1.0 only", versions(CloudVersions::Tls10Only)),
        ("TLS 1.1 only", versions(CloudVersions::Tls11Only)),
    ]
}

/// How the DMS reaches the cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Way {
    Direct,
    /// Through its site's DMZ proxy (an open one: the proxy is not what is judged).
    ThroughDmz,
}

impl Way {
    pub(super) const ALL: [Way; 2] = [Way::Direct, Way::ThroughDmz];

    /// The path's name in the matrix.
    pub(super) fn path(self, path: &str) -> String {
        match self {
            Way::Direct => path.to_owned(),
            Way::ThroughDmz => format!("{path} (through the DMZ proxy)"),
        }
    }

    pub(super) async fn environment(self, ctx: &Ctx) -> Result<Environment, Failure> {
        match self {
            Way::Direct => ctx.environment().await,
            Way::ThroughDmz => {
                ctx.environment_with(Options {
                    dmz: Some(Dmz {
                        proxy: DmzPolicy {
                            credentials: None,
                            refuse_all: false,
                        },
                        agent_credentials: None,
                    }),
                    ..ctx.options()
                })
                .await
            }
        }
    }
}

/// Where the record stood when a bad server was switched on.
pub(super) struct Mark {
    hellos: usize,
    relayed: usize,
    requests: usize,
}

pub(super) fn mark(env: &Environment) -> Mark {
    Mark {
        hellos: first_flights_from_dms(env).len(),
        relayed: env.dmz_proxy().map_or(0, |p| p.tunnels().len()),
        requests: env.cloud().requests().count(),
    }
}

pub(super) fn present(env: &Environment, tls: CloudTls) -> Result<(), Failure> {
    env.present_cloud_tls(tls)
        .map_err(|e| Failure::Harness(format!("the cloud could not switch what it presents: {e}")))
}

/// What the sweep found wrong, per check.
#[derive(Default)]
pub(super) struct Found {
    pub reached: Vec<String>,
    pub fell_back: Vec<String>,
    /// Cells where the agent did not try the path at all (a setup problem, unless an earlier
    /// cell of the path already let it through).
    pub untried: Vec<String>,
}

/// The first flights `host` received from the DMS since `mark`, the way `way` brings them.
fn hellos_since(env: &Environment, way: Way, host: &str, mark: &Mark) -> Vec<Vec<u8>> {
    match (way, env.dmz_proxy()) {
        (Way::ThroughDmz, Some(proxy)) => proxy
            .tunnels()
            .into_iter()
            .skip(mark.relayed)
            .filter(|t| t.target.rsplit_once(':').map_or(&*t.target, |(h, _)| h) == host)
            .filter(|t| !t.upstream.is_empty())
            .map(|t| t.upstream)
            .collect(),
        _ => first_flights_from_dms(env)
            .into_iter()
            .skip(mark.hellos)
            .filter(|f| f.endpoint == host)
            .map(|f| f.bytes)
            .collect(),
    }
}

/// Judges what happened on `host` since `mark` for `path` (already named for its way) against
/// `server`.
pub(super) fn judge(
    env: &Environment,
    ev: &Evidence,
    (way, path, server, host): (Way, &str, &str, &str),
    mark: &Mark,
    found: &mut Found,
) -> Result<(), Failure> {
    let allowed = &oracle::spec()?.tls.versions_allowed;
    let hellos = hellos_since(env, way, host, mark);
    if hellos.is_empty() {
        ev.row(DIMENSION, path, server, "not tried");
        found.untried.push(format!("{path} / {server}"));
        return Ok(());
    }
    // Requests the cloud received since the switch: the scenario sends none meanwhile.
    let reached: Vec<String> = env
        .cloud()
        .requests()
        .all()
        .into_iter()
        .skip(mark.requests)
        .filter(|r| r.endpoint == host)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let is_allowed = |v: wire::tls::Version| allowed.iter().any(|a| a == v.name());
    // A hello without `supported_versions` names only its highest version; one with it names
    // each, and every one must be allowed (TLS-2: "lists no other version").
    let wrong_versions: Vec<String> = hellos
        .iter()
        .map(|bytes| parse_client_hello(bytes))
        .filter_map(|h| match h {
            Err(e) => Some(format!("no ClientHello: {e}")),
            Ok(h) if !h.highest_version().is_some_and(is_allowed) => {
                Some(format!("{:?}", h.offered_versions()))
            }
            Ok(h)
                if h.supported_versions.is_some()
                    && !h.offered_versions().into_iter().all(is_allowed) =>
            {
                Some(format!("{:?}", h.offered_versions()))
            }
            Ok(_) => None,
        })
        .collect();
    ev.row(
        DIMENSION,
        path,
        server,
        match (reached.is_empty(), wrong_versions.is_empty()) {
            (true, true) => format!(
                "refused before any request ({} hellos, only {} offered)",
                hellos.len(),
                allowed.join(", ")
            ),
            (false, _) => format!("REQUESTS REACHED THE SERVER: {reached:?}"),
            (true, false) => format!("FELL BACK: {wrong_versions:?}"),
        },
    );
    if !reached.is_empty() {
        found
            .reached
            .push(format!("{path} / {server}: {reached:?}"));
    }
    if !wrong_versions.is_empty() {
        found
            .fell_back
            .push(format!("{path} / {server}: {wrong_versions:?}"));
    }
    Ok(())
}
