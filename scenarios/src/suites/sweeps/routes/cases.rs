//! The bad credentials each kind of route is tried with: bearer tokens, the tunnel's upgrade,
//! sign-in sessions and client assertions.

use mocks::Environment;
use mocks::cloud::{Route, TunnelEvent};

use super::DIMENSION;
use super::credentials::Credentials;
use super::judge::{FORBIDDEN, INVALID_TOKEN, Judge, is_refusal, is_session_refusal};
use super::table::{item, send};
use crate::Failure;
use crate::clients::CloudClient;

pub(super) fn tunnels_opened(env: &Environment) -> usize {
    env.cloud()
        .tunnels()
        .events()
        .iter()
        .filter(|e| matches!(e, TunnelEvent::Opened { .. }))
        .count()
}

/// Every bad bearer token on a route that asks for one: 401; a valid token of another DMS or
/// organisation on a route naming this DMS: 403.
pub(super) async fn bearer(
    client: &CloudClient,
    route: &Route,
    creds: &Credentials,
    judge: &mut Judge<'_>,
) -> Result<(), Failure> {
    let control = send(client, route, &creds.dms_a, Some(&creds.token_a), None).await?;
    judge.ev.row(
        DIMENSION,
        item(route),
        "the DMS's own token (control)",
        format!("answered {}", control.status),
    );
    if matches!(control.status, 401 | 403) {
        return Err(Failure::precondition(
            format!("the DMS's own token on {}", item(route)),
            "not refused",
            control.status,
        ));
    }
    let none = send(client, route, &creds.dms_a, None, None).await?;
    judge.record(
        route,
        "no token",
        none.status,
        none.status == INVALID_TOKEN,
        false,
    );
    for (name, token) in &creds.forged {
        let reply = send(client, route, &creds.dms_a, Some(token), None).await?;
        judge.record(
            route,
            name,
            reply.status,
            reply.status == INVALID_TOKEN,
            false,
        );
    }
    for (case, token) in [
        ("expired token", &creds.expired),
        ("revoked token", &creds.revoked),
    ] {
        let reply = send(client, route, &creds.dms_a, Some(token), None).await?;
        judge.record(
            route,
            case,
            reply.status,
            reply.status == INVALID_TOKEN,
            false,
        );
    }
    if route.names_dms.is_some() {
        for (case, token) in [
            ("another DMS's token", &creds.other_dms.access_token),
            (
                "another organisation's DMS's token",
                &creds.foreign_dms.access_token,
            ),
        ] {
            let reply = send(client, route, &creds.dms_a, Some(token), None).await?;
            judge.record(route, case, reply.status, reply.status == FORBIDDEN, true);
        }
        let reply = send(
            client,
            route,
            &creds.foreign_dms.dms.id,
            Some(&creds.token_a),
            None,
        )
        .await?;
        judge.record(
            route,
            "the DMS's token on another organisation's DMS's ID",
            reply.status,
            reply.status == FORBIDDEN,
            true,
        );
    }
    Ok(())
}

/// The tunnel: every bad token refused with 401 and no tunnel on the cloud's record; another
/// DMS's token naming this DMS, 403.
pub(super) async fn tunnel(
    env: &Environment,
    client: &CloudClient,
    route: &Route,
    creds: &Credentials,
    judge: &mut Judge<'_>,
) -> Result<(), Failure> {
    let mut attempt = async |case: &str, token: &str, names: Option<&str>, expect: u16| {
        let before = tunnels_opened(env);
        let status = match names {
            Some(dms) => client.try_tunnel_as(token, dms).await?,
            None => client.try_tunnel(token).await?,
        };
        let opened = tunnels_opened(env) - before;
        let refused = status == expect && opened == 0;
        judge.record(route, case, status, refused, names.is_some());
        Ok::<(), Failure>(())
    };
    for (name, token) in &creds.forged {
        attempt(name, token, None, INVALID_TOKEN).await?;
    }
    attempt("expired token", &creds.expired, None, INVALID_TOKEN).await?;
    attempt("revoked token", &creds.revoked, None, INVALID_TOKEN).await?;
    attempt(
        "another DMS's token naming this DMS",
        &creds.other_dms.access_token,
        Some(&creds.dms_a),
        FORBIDDEN,
    )
    .await?;
    attempt(
        "another organisation's DMS's token naming this DMS",
        &creds.foreign_dms.access_token,
        Some(&creds.dms_a),
        FORBIDDEN,
    )
    .await
}

/// Routes a signed-in account reaches: no session and a made-up one refused; on a route
/// naming a DMS, another organisation's session too.
pub(super) async fn session(
    client: &CloudClient,
    route: &Route,
    creds: &Credentials,
    judge: &mut Judge<'_>,
) -> Result<(), Failure> {
    let none = send(client, route, &creds.dms_a, None, None).await?;
    judge.record(
        route,
        "no session",
        none.status,
        is_session_refusal(none.status),
        false,
    );
    let name = creds
        .own_session
        .split_once('=')
        .map_or("session", |(name, _)| name);
    let made_up = format!("{name}={}", mocks::world::random_token(24));
    let reply = send(client, route, &creds.dms_a, None, Some(&made_up)).await?;
    judge.record(
        route,
        "a made-up session",
        reply.status,
        is_session_refusal(reply.status),
        false,
    );
    let reply = send(client, route, &creds.dms_a, Some(&creds.token_a), None).await?;
    judge.record(
        route,
        "the DMS's JWT in place of a session",
        reply.status,
        is_session_refusal(reply.status),
        false,
    );
    if route.names_dms.is_some() {
        let reply = send(
            client,
            route,
            &creds.dms_a,
            None,
            Some(&creds.foreign_session),
        )
        .await?;
        judge.record(
            route,
            "another organisation's session on this DMS's ID",
            reply.status,
            is_refusal(reply.status),
            true,
        );
    }
    Ok(())
}

/// Routes a DMS reaches with its client assertion: a bearer token in its place, or nothing,
/// is refused (RFC 6749 §5.2: 400 or 401).
pub(super) async fn assertion(
    client: &CloudClient,
    route: &Route,
    creds: &Credentials,
    judge: &mut Judge<'_>,
) -> Result<(), Failure> {
    for (case, bearer) in [
        ("no client assertion", None),
        (
            "the DMS's JWT in place of an assertion",
            Some(creds.token_a.as_str()),
        ),
    ] {
        let reply = send(client, route, &creds.dms_a, bearer, None).await?;
        let refused = matches!(reply.status, 400 | 401) && reply.field("access_token").is_none();
        judge.record(route, case, reply.status, refused, false);
    }
    Ok(())
}
