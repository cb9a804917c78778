//! Routes × credentials (TOK-1, TOK-3, TOK-5, OPT-3): every route of every host, as the cloud's
//! published route table lists it, tried with every bad credential for the kind it asks for.
//! The table says what to attack; what each attempt must get is the scenario's: a bad bearer
//! token 401 (RFC 6750 §3.1 `invalid_token`), a good token on another DMS's ID 403, a bad or
//! foreign session no answer but a refusal, and no tunnel on the cloud's record.

use std::time::Duration;

use mocks::Environment;
use mocks::cloud::{Endpoint, Guard, Route, TunnelEvent};

use super::enrol::{Enrolled, enrol};
use crate::clients::{CloudClient, Reply};
use crate::suites::tokens::validation::signing_key;
use crate::{Ctx, Evidence, Failure, oracle, steps};

const DIMENSION: &str = "routes × credentials";

/// The routes the spec lets anyone reach without a credential: signing in, signing up, the
/// start of the connect flow and the page a person opens with a user code. Owned here, so a
/// route the cloud lists as open that is not one of these fails.
const MAY_BE_OPEN: &[(&str, &str)] = &[
    ("connection.dataminer.services", "/account/login"),
    (
        "connection.dataminer.services",
        "/oauth/device_authorization",
    ),
    ("connection.dataminer.services", "/device"),
    ("sharing.dataminer.services", "/account/login"),
    ("sharing.dataminer.services", "/account/create"),
    ("sharing.dataminer.services", "/account/create/code"),
];

/// What a refusal of a bad bearer token is on the wire.
const INVALID_TOKEN: u16 = 401;
/// What a valid token of another DMS gets on this DMS's ID.
const FORBIDDEN: u16 = 403;

/// What a missing or bad sign-in session must get on a route that asks for one: a refusal of
/// the session itself, before anything the request carries is read (a 400 for a missing
/// parameter would tell nothing of whether the session was checked).
fn is_session_refusal(status: u16) -> bool {
    matches!(status, 401 | 403)
}

fn is_refusal(status: u16) -> bool {
    matches!(status, 400 | 401 | 403 | 404 | 410)
}

/// The route's path with the DMS it names (when it names one) and harmless values elsewhere.
fn path_for(route: &Route, dms_id: &str) -> String {
    route
        .path
        .split('/')
        .map(|segment| match segment {
            "{dms_id}" => dms_id.to_owned(),
            "{method}" => "GetElement".to_owned(),
            "{token}" => mocks::world::random_token(16),
            s if s.starts_with('{') => "1".to_owned(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether `path` on `endpoint` falls under a listed route whose last segment takes the rest
/// of the path (`/s/{token}/{*rest}`).
fn under_a_wildcard(routes: &[Route], endpoint: Endpoint, path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    routes.iter().filter(|r| r.endpoint == endpoint).any(|r| {
        let template: Vec<&str> = r.path.split('/').collect();
        let Some((last, prefix)) = template.split_last() else {
            return false;
        };
        last.starts_with("{*")
            && segments.len() > prefix.len()
            && prefix
                .iter()
                .zip(&segments)
                .all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
    })
}

fn method_of(route: &Route) -> &'static str {
    match route.methods.first() {
        Some(&"*") | None => "GET",
        Some(method) => method,
    }
}

fn item(route: &Route) -> String {
    format!(
        "{} {}{}",
        route.methods.join(","),
        route.endpoint.host(),
        route.path
    )
}

/// The credentials the sweep holds.
struct Credentials {
    dms_a: String,
    token_a: String,
    forged: Vec<(String, String)>,
    expired: String,
    revoked: String,
    other_dms: Enrolled,
    foreign_dms: Enrolled,
    own_session: String,
    foreign_session: String,
    /// Whose sessions those are: each route gets fresh ones, so a route that ends the session
    /// it is given (a sign-out) leaves the next routes' live.
    own_account: mocks::cloud::Account,
    foreign_account: mocks::cloud::Account,
}

/// One attempt: what was sent with which credential, and the statuses that count as refused.
struct Judge<'a> {
    ev: &'a Evidence,
    /// Attempts that were not refused as the spec says.
    accepted: Vec<String>,
    /// Attempts with another DMS's or organisation's credential on this DMS's ID that opened
    /// something.
    crossed: Vec<String>,
    tried: usize,
}

impl Judge<'_> {
    fn record(&mut self, route: &Route, case: &str, status: u16, refused: bool, cross: bool) {
        self.tried += 1;
        let outcome = if refused {
            format!("refused {status}")
        } else {
            format!("ACCEPTED {status}")
        };
        self.ev.row(DIMENSION, item(route), case, outcome);
        if !refused {
            let line = format!("{} with {case}: HTTP {status}", item(route));
            if cross {
                self.crossed.push(line);
            } else {
                self.accepted.push(line);
            }
        }
    }
}

async fn send(
    client: &CloudClient,
    route: &Route,
    dms_id: &str,
    bearer: Option<&str>,
    cookie: Option<&str>,
) -> Result<Reply, Failure> {
    client
        .request_with(
            method_of(route),
            route.endpoint,
            &path_for(route, dms_id),
            bearer,
            cookie,
        )
        .await
}

fn tunnels_opened(env: &Environment) -> usize {
    env.cloud()
        .tunnels()
        .events()
        .iter()
        .filter(|e| matches!(e, TunnelEvent::Opened { .. }))
        .count()
}

pub(super) async fn every_route_refuses_every_bad_credential(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let mut creds = credentials(&env).await?;
    let routes = env.cloud().routes();
    ev.saw("routes in the cloud's published table", routes.len());
    let client = CloudClient::new(&env)?;
    let mut judge = Judge {
        ev: &ev,
        accepted: Vec::new(),
        crossed: Vec::new(),
        tried: 0,
    };
    let mut wrongly_open = Vec::new();
    for route in routes {
        creds.own_session = steps::sign_in(&client, &creds.own_account).await?;
        creds.foreign_session = steps::sign_in(&client, &creds.foreign_account).await?;
        match route.guard {
            Guard::Open => {
                let allowed = MAY_BE_OPEN.contains(&(route.endpoint.host(), route.path));
                ev.row(
                    DIMENSION,
                    item(route),
                    "no credential (listed as open)",
                    if allowed {
                        "open, as the spec allows"
                    } else {
                        "OPEN without a credential"
                    },
                );
                if !allowed {
                    wrongly_open.push(item(route));
                }
            }
            Guard::DmsToken if route.endpoint == Endpoint::Tunnel => {
                tunnel(&env, &client, route, &creds, &mut judge).await?;
            }
            Guard::DmsToken => bearer(&client, route, &creds, &mut judge).await?,
            Guard::AccountSession => session(&client, route, &creds, &mut judge).await?,
            Guard::ClientAssertion => assertion(&client, route, &creds, &mut judge).await?,
            Guard::ShareLink => {
                for (case, cookie) in [
                    ("a guessed link, no session", None),
                    (
                        "a guessed link, a signed-in session",
                        Some(&creds.own_session),
                    ),
                ] {
                    let reply = send(
                        &client,
                        route,
                        &creds.dms_a,
                        None,
                        cookie.map(String::as_str),
                    )
                    .await?;
                    judge.record(route, case, reply.status, is_refusal(reply.status), false);
                }
            }
        }
    }
    // Beyond every listed path, one segment more: nothing the table does not list is served.
    let mut served_unlisted = Vec::new();
    for route in routes {
        let path = format!(
            "{}/not-in-the-table",
            path_for(route, &creds.dms_a).trim_end_matches('/')
        );
        // A route that takes the rest of the path (`{*rest}`) lists this one too.
        if under_a_wildcard(routes, route.endpoint, &path) {
            continue;
        }
        let reply = client
            .request_with("GET", route.endpoint, &path, Some(&creds.token_a), None)
            .await?;
        ev.row(
            DIMENSION,
            format!("GET {}{path}", route.endpoint.host()),
            "a path the table does not list",
            format!("answered {}", reply.status),
        );
        if reply.status != 404 {
            served_unlisted.push(format!("{}{path}: {}", route.endpoint.host(), reply.status));
        }
    }
    // The DMS's own token still works: nothing above revoked it by the way.
    let still = client
        .get_with_token(Endpoint::Connection, "api/dms/self", &creds.token_a)
        .await?;
    if still.status != 200 {
        return Err(Failure::precondition(
            "the DMS's own token after the sweep",
            "HTTP 200",
            still.status,
        ));
    }
    ev.saw("attempts", judge.tried);
    ev.expect_eq(
        "unlisted-paths-not-served",
        "paths beyond the table that a host answered with anything but 404",
        Vec::<String>::new(),
        served_unlisted,
    )?;
    ev.expect_eq(
        "only-the-spec-s-routes-are-open",
        "routes the table lists as open that the spec does not",
        Vec::<String>::new(),
        wrongly_open,
    )?;
    let (accepted, crossed) = (judge.accepted, judge.crossed);
    ev.expect_eq(
        "bad-credentials-refused-on-every-route",
        "forged, tampered, expired, revoked or missing credentials a route did not refuse",
        Vec::<String>::new(),
        accepted,
    )?;
    ev.expect_eq(
        "another-dms-s-ids-refused-on-every-route",
        "another DMS's or organisation's credential that opened this DMS's ID",
        Vec::<String>::new(),
        crossed,
    )
}

/// Every bad bearer token on a route that asks for one: 401; a valid token of another DMS or
/// organisation on a route naming this DMS: 403.
async fn bearer(
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
async fn tunnel(
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
async fn session(
    client: &CloudClient,
    route: &Route,
    creds: &Credentials,
    judge: &mut Judge<'_>,
) -> Result<(), Failure> {
    let control = send(client, route, &creds.dms_a, None, Some(&creds.own_session)).await?;
    judge.ev.row(
        DIMENSION,
        item(route),
        "the organisation's own session (control)",
        format!("answered {}", control.status),
    );
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
async fn assertion(
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

/// Every credential the sweep tries, good and bad, each made the way a real one is.
async fn credentials(env: &Environment) -> Result<Credentials, Failure> {
    let spec = oracle::spec()?;
    steps::connect_dms(env).await?;
    let dms_a = env.accounts().dms_id.clone();
    let admin = env.accounts().cloud_admin.clone();
    let outsider = env.accounts().cloud_outsider.clone();
    // A DMS that never renews: its token is the expired one once a week has passed.
    let stale = enrol(env, "dms-sweep-stale", &admin).await?;
    let past = spec.token.lifetime_seconds + spec.token.clock_skew_allowance_seconds + 60;
    steps::let_time_pass(env, Duration::from_secs(past), 7 * 24).await;
    let other_dms = enrol(env, "dms-sweep-other", &admin).await?;
    let foreign_dms = enrol(env, "dms-sweep-foreign", &outsider).await?;
    let gone = enrol(env, "dms-sweep-gone", &admin).await?;
    let revoke = gone.dms.revoke(&gone.access_token).await?;
    if revoke.status != 200 {
        return Err(Failure::precondition(
            "the disconnect of dms-sweep-gone",
            "HTTP 200",
            revoke.status,
        ));
    }
    let token_a = env
        .dms_credentials()
        .stored()
        .map(|c| c.access_token)
        .ok_or_else(|| Failure::precondition("the DMS's credentials", "stored", "none"))?;
    let key = signing_key(env, &token_a)?.ok_or_else(|| {
        Failure::precondition(
            "the signing key",
            "a key of the vault that verifies the DMS's token",
            "none does",
        )
    })?;
    let forged: Vec<(String, String)> = probes::jwt::attacks(&token_a, &key, &env.ca_der())
        .into_iter()
        .map(|a| (format!("forged: {}", a.name), a.token))
        .collect();
    if forged.is_empty() {
        return Err(Failure::Harness("the forged-token battery is empty".into()));
    }
    let browser = CloudClient::new(env)?;
    let own_session = steps::sign_in(&browser, &admin).await?;
    let foreign_session = steps::sign_in(&CloudClient::new(env)?, &outsider).await?;
    Ok(Credentials {
        dms_a,
        token_a,
        forged,
        expired: stale.access_token,
        revoked: gone.access_token,
        other_dms,
        foreign_dms,
        own_session,
        foreign_session,
        own_account: admin,
        foreign_account: outsider,
    })
}
