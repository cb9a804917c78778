//! The positive control of every route that takes a sign-in session: a valid request, made by
//! the organisation's signed-in Owner the way the product's pages make it, must succeed. A
//! route that refused everyone would pass every refusal of the sweep; its control is what
//! shows the refusals mean something. Which request is valid on a route, and what it gets, is
//! the scenario's (from the README's account of each route), never read from the cloud.

use mocks::Environment;
use mocks::cloud::{Endpoint, Route};
use serde_json::json;

use super::super::enrol::enrol;
use super::credentials::Credentials;
use crate::Failure;
use crate::clients::{CloudClient, Reply, ScriptedDms};
use crate::steps::{Recipient, hidden_input};

/// What an API or a page answers a valid request.
const OK: u16 = 200;
/// What a form answers a valid submission: the redirect to the page that follows it.
const SEE_OTHER: u16 = 303;

/// The valid request the sweep makes on a session route, and what it must get.
pub(super) enum Control {
    /// Sent: what it was, the status the scenario expects, and the status it got.
    Sent {
        request: &'static str,
        expected: u16,
        status: u16,
    },
    /// The sweep knows no valid request for the route (a route added to the table since):
    /// reported as such, and judged as a control not made.
    NotMade(&'static str),
}

/// Makes and sends the valid request of `route`, a route that takes a session, with `session`
/// (the Owner's own, fresh for this route).
pub(super) async fn control(
    env: &Environment,
    client: &CloudClient,
    route: &Route,
    creds: &Credentials,
    session: &str,
) -> Result<Control, Failure> {
    let own_page = env.cloud_url(route.endpoint);
    let dms_a = creds.dms_a.as_str();
    let sent = |request, expected, reply: Reply| Control::Sent {
        request,
        expected,
        status: reply.status,
    };
    // A GET of the route naming the organisation's own DMS.
    let dms_a_path = format!("{}?dms_id={dms_a}", route.path);
    let for_dms_a = || client.request_with("GET", route.endpoint, &dms_a_path, None, Some(session));
    Ok(match (route.endpoint, route.path) {
        (Endpoint::Connection | Endpoint::Sharing, "/account/logout") => sent(
            "POST: the signed-in account signs out",
            OK,
            client
                .request_with("POST", route.endpoint, route.path, None, Some(session))
                .await?,
        ),
        (Endpoint::Connection, "/device/approve") => sent(
            "the approval form of a pending DMS of the organisation, with the page's ticket",
            SEE_OTHER,
            approve_a_pending_dms(env, client, creds, session, &own_page).await?,
        ),
        (Endpoint::Connection, "/device/done") => sent(
            "GET ?dms_id= the organisation's approved DMS",
            OK,
            for_dms_a().await?,
        ),
        (Endpoint::Connection, "/api/org/members/role") => {
            let member = &env.accounts().cloud_member;
            sent(
                "the Owner sets a Member's role to Member",
                OK,
                client
                    .post_form_from_page(
                        route.endpoint,
                        route.path,
                        &[("email", &member.email), ("role", "Member")],
                        Some(session),
                        &own_page,
                    )
                    .await?,
            )
        }
        (Endpoint::Connection, "/api/org/remote-access") => sent(
            "GET ?dms_id= a DMS of the organisation",
            OK,
            for_dms_a().await?,
        ),
        (Endpoint::Connection, "/api/org/dms/remove") => {
            let spare = enrol(env, "dms-sweep-removable", &creds.own_account).await?;
            sent(
                "the Owner removes a DMS of the organisation",
                OK,
                client
                    .post_form_from_page(
                        route.endpoint,
                        route.path,
                        &[("dms_id", &spare.dms.id)],
                        Some(session),
                        &own_page,
                    )
                    .await?,
            )
        }
        (Endpoint::Sharing, "/api/shares") => sent(
            "GET: the shares sent to the account",
            OK,
            client
                .request_with("GET", route.endpoint, route.path, None, Some(session))
                .await?,
        ),
        (Endpoint::Sharing, "/dms/{dms_id}/API/v1/Json.asmx/{method}") => {
            // Remote access enabled by the Owner for the Owner, who then logs in to the DMS
            // as a read-only DMS user.
            let remote = Recipient::signed_in(env).await?;
            let viewer = &env.accounts().dms_viewer;
            let body = json!({
                "host": "", "login": viewer.login, "password": viewer.password,
                "clientAppName": "conform", "clientAppVersion": "1", "clientComputerName": "sweep",
            });
            let (status, _) = remote.call_json(dms_a, "ConnectApp", &body).await?;
            Control::Sent {
                request: "ConnectApp on the organisation's DMS, remote access enabled for the account",
                expected: OK,
                status,
            }
        }
        _ => Control::NotMade("the sweep knows no valid request for this route"),
    })
}

/// A DMS of the Owner's organisation asks to connect; the Owner opens the page of its user
/// code and sends the approval form with the page's ticket, as the page's own form does. The
/// form's answer itself, not what follows it.
async fn approve_a_pending_dms(
    env: &Environment,
    client: &CloudClient,
    creds: &Credentials,
    session: &str,
    own_page: &str,
) -> Result<Reply, Failure> {
    let dms_id = "dms-sweep-pending";
    let dms =
        ScriptedDms::new(&CloudClient::new(env)?, dms_id)?.joining(&creds.own_account.organization);
    let started = dms.started().await?;
    let code: String = form_urlencoded::byte_serialize(started.user_code.as_bytes()).collect();
    let page = client
        .open(
            Endpoint::Connection,
            &format!("device?user_code={code}"),
            Some(session),
        )
        .await?;
    let ticket = hidden_input(&page.text, "ticket").ok_or_else(|| {
        Failure::precondition("the approval page of a pending DMS", "a ticket", &page)
    })?;
    client
        .post_form_from_page(
            Endpoint::Connection,
            "device/approve",
            &[
                ("user_code", &started.user_code),
                ("ticket", &ticket),
                ("confirm_dms_id", dms_id),
                ("action", "approve"),
            ],
            Some(session),
            own_page,
        )
        .await
}
