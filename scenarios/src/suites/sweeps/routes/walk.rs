//! The walk over the cloud's published route table: each route with the cases of its guard,
//! one segment beyond every listed path, and the verdicts.

use mocks::cloud::{Endpoint, Guard, Route};

use super::DIMENSION;
use super::cases::{assertion, bearer, session, tunnel};
use super::controls::{Control, control};
use super::credentials::credentials;
use super::judge::{Judge, is_refusal};
use super::table::{MAY_BE_OPEN, item, path_for, send, under_a_wildcard};
use crate::clients::CloudClient;
use crate::{Ctx, Evidence, Failure, steps};

pub(in crate::suites::sweeps) async fn every_route_refuses_every_bad_credential(
    ctx: Ctx,
) -> Result<(), Failure> {
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
    let mut controls_failed = Vec::new();
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
            Guard::AccountSession => {
                let own = creds.own_session.clone();
                let made = control(&env, &client, route, &creds, &own).await?;
                judge_control(&ev, route, made, &mut controls_failed);
                creds.own_session = steps::sign_in(&client, &creds.own_account).await?;
                session(&client, route, &creds, &mut judge).await?;
            }
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
    ev.expect_eq(
        "every-session-route-serves-its-valid-request",
        "routes taking a session whose valid request, made with the right account, was not served as the scenario expects",
        Vec::<String>::new(),
        controls_failed,
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

/// Records a session route's control in the matrix; a control refused, answered otherwise than
/// expected, or not made fails its own check.
fn judge_control(ev: &Evidence, route: &Route, made: Control, failed: &mut Vec<String>) {
    let case = "a valid request of the organisation's Owner (control)";
    match made {
        Control::Sent {
            request,
            expected,
            status,
        } => {
            let served = status == expected;
            ev.row(
                DIMENSION,
                item(route),
                case,
                if served {
                    format!("served {status} ({request})")
                } else {
                    format!("NOT SERVED {status}, expected {expected} ({request})")
                },
            );
            if !served {
                failed.push(format!(
                    "{}: {request}: HTTP {status}, expected {expected}",
                    item(route)
                ));
            }
        }
        Control::NotMade(why) => {
            ev.row(DIMENSION, item(route), case, format!("not made: {why}"));
            failed.push(format!("{}: no valid request made: {why}", item(route)));
        }
    }
}
