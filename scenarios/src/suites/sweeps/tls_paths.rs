//! TLS client paths × bad servers (TLS-2, TLS-3, NET-1): every connection the agent makes —
//! the device authorization that starts the connect flow, the daily refresh, a disconnect's
//! revocation, the tunnel's redial — meets, in the middle of the DMS's life, a cloud that
//! presents an untrusted issuer, another host's name, an expired or a not-yet-valid
//! certificate, TLS 1.3 only, or only TLS 1.0 or 1.1 (a hand-written ServerHello). Judged on
//! the cloud's side: the agent tried (its ClientHello is on record), no request of it arrived,
//! and every hello it sent names TLS 1.2 as its highest version (no fallback).

use std::time::Duration;

use mocks::Environment;
use mocks::cloud::{CertificateProblem, CloudTls, CloudVersions};
use serde_json::json;
use wire::tls::{Version, parse_client_hello};

use crate::clients::DmaReply;
use crate::steps::{self, ask_dms_to_connect, first_flights_from_dms};
use crate::{Ctx, Evidence, Failure, oracle};

const DIMENSION: &str = "agent TLS paths × bad servers";

/// Long enough for a retry at the longest backoff the product documents (5 minutes).
const RETRY_WINDOW: Duration = Duration::from_secs(400);

/// Every bad server, with the name the matrix shows.
fn bad_servers() -> Vec<(&'static str, CloudTls)> {
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

/// Where the record stood when a bad server was switched on.
struct Mark {
    hellos: usize,
    requests: usize,
}

fn mark(env: &Environment) -> Mark {
    Mark {
        hellos: first_flights_from_dms(env).len(),
        requests: env.cloud().requests().count(),
    }
}

fn present(env: &Environment, tls: CloudTls) -> Result<(), Failure> {
    env.present_cloud_tls(tls)
        .map_err(|e| Failure::Harness(format!("the cloud could not switch what it presents: {e}")))
}

/// What the sweep found wrong, per check.
#[derive(Default)]
struct Found {
    reached: Vec<String>,
    fell_back: Vec<String>,
    /// Cells where the agent did not try the path at all (a setup problem, unless an earlier
    /// cell of the path already let it through).
    untried: Vec<String>,
}

/// Judges what happened on `host` since `mark` for `path` against `server`.
fn judge(
    env: &Environment,
    ev: &Evidence,
    (path, server, host): (&str, &str, &str),
    mark: &Mark,
    found: &mut Found,
) -> Result<(), Failure> {
    let hellos: Vec<_> = first_flights_from_dms(env)
        .into_iter()
        .skip(mark.hellos)
        .filter(|f| f.endpoint == host)
        .collect();
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
    let wrong_versions: Vec<String> = hellos
        .iter()
        .filter_map(|f| parse_client_hello(&f.bytes).ok())
        .filter(|h| {
            h.highest_version() != Some(Version::Tls12)
                || h.supported_versions
                    .as_ref()
                    .is_some_and(|_| h.offered_versions() != [Version::Tls12])
        })
        .map(|h| format!("{:?}", h.offered_versions()))
        .collect();
    ev.row(
        DIMENSION,
        path,
        server,
        match (reached.is_empty(), wrong_versions.is_empty()) {
            (true, true) => format!(
                "refused before any request ({} hellos, TLS 1.2 only)",
                hellos.len()
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

pub(super) async fn every_agent_connection_refuses_every_bad_server(
    ctx: Ctx,
) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let (connection, tunnel) = (spec.hosts.connection.as_str(), spec.hosts.tunnel.as_str());
    let mut found = Found::default();

    // The device authorization: the first connection the agent makes (a fresh DMS for each
    // server, so one that got through does not hide the next).
    for (server, tls) in bad_servers() {
        let env = ctx.environment().await?;
        present(&env, tls)?;
        let at = mark(&env);
        let reply = ask_dms_to_connect(&env).await?;
        if !matches!(reply, DmaReply::Error { .. }) {
            found.reached.push(format!(
                "device authorization / {server}: the DMA answered {reply:?}"
            ));
        }
        judge(
            &env,
            &ev,
            ("device authorization", server, connection),
            &at,
            &mut found,
        )?;
    }

    // The daily refresh, then its retries.
    let env = ctx.environment().await?;
    steps::connect_dms(&env).await?;
    let renewal = Duration::from_secs(spec.token.renew_every_seconds);
    steps::let_time_pass(&env, renewal - Duration::from_secs(120), 24).await;
    for (server, tls) in bad_servers() {
        present(&env, tls)?;
        let at = mark(&env);
        steps::let_time_pass(&env, RETRY_WINDOW, 40).await;
        judge(
            &env,
            &ev,
            ("token refresh", server, connection),
            &at,
            &mut found,
        )?;
    }
    present(&env, CloudTls::default())?;

    // A disconnect's revocation, then its retries.
    let env = ctx.environment().await?;
    let admin = steps::connect_dms(&env).await?;
    let mut first = true;
    for (server, tls) in bad_servers() {
        present(&env, tls)?;
        let at = mark(&env);
        if first {
            admin.expect_data("DisconnectFromCloud", json!({})).await?;
            first = false;
        } else {
            steps::let_time_pass(&env, Duration::from_secs(11), 1).await;
        }
        judge(
            &env,
            &ev,
            ("revocation", server, connection),
            &at,
            &mut found,
        )?;
    }

    // The tunnel's redial, after the cloud closed the DMS's tunnels.
    let env = ctx.environment().await?;
    steps::connect_dms(&env).await?;
    let dms_id = env.accounts().dms_id.clone();
    for (server, tls) in bad_servers() {
        present(&env, tls)?;
        let at = mark(&env);
        for live in env.cloud().tunnels().live() {
            if live.dms_id == dms_id {
                env.cloud().tunnels().close(live.id);
            }
        }
        steps::dms_let_go_of_tunnels(&env).await;
        steps::let_time_pass(&env, RETRY_WINDOW, 40).await;
        judge(&env, &ev, ("tunnel", server, tunnel), &at, &mut found)?;
    }
    ev.saw(
        "paths not swept yet",
        "the token poll, share announcements, and every path through the DMZ proxy",
    );

    ev.expect_eq(
        "agent-refuses-every-bad-server-on-every-path",
        "paths on which a request of the agent reached a bad server",
        Vec::<String>::new(),
        found.reached,
    )?;
    ev.expect_eq(
        "agent-never-falls-back",
        "hellos offering anything but TLS 1.2 as their highest version",
        Vec::<String>::new(),
        found.fell_back,
    )?;
    if found.untried.is_empty() {
        Ok(())
    } else {
        Err(Failure::precondition(
            "every path tried against every server",
            "a ClientHello on the cloud's record for each",
            found.untried,
        ))
    }
}
