//! The cloud's published route table: every route of every host, the methods it answers and
//! the credential it asks for. The routers are built through `Served`, which serves a path only
//! when the table lists it for that host, so a route cannot be served without an entry; a unit
//! test checks that the table and the routers agree, both ways. A scanner (the route sweep)
//! reads this table to know what to attack; what each attack must get comes from the spec.

use std::sync::Arc;

use axum::routing::MethodRouter;
use serde::Serialize;

use super::{CloudState, Endpoint};

/// What a route asks of its caller before it acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Guard {
    /// Nothing: sign-in, sign-up, the start of the connect flow.
    Open,
    /// A DMS's bearer token (`Authorization: Bearer`).
    DmsToken,
    /// A DMS's client assertion (RFC 7523) in the form, for its own `client_id`.
    ClientAssertion,
    /// A signed-in dataminer.services account's session cookie.
    AccountSession,
    /// The unguessable token of a share link, in the path, and the session of its address.
    ShareLink,
}

/// One route of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub endpoint: Endpoint,
    /// The HTTP methods it answers; `*` for any.
    pub methods: &'static [&'static str],
    /// axum's path template: `{name}` is a segment the caller chooses.
    pub path: &'static str,
    pub guard: Guard,
    /// The path segment that names a DMS, when the route acts on one the caller names (or the
    /// request header that does, for the tunnel).
    pub names_dms: Option<&'static str>,
}

const fn route(
    endpoint: Endpoint,
    methods: &'static [&'static str],
    path: &'static str,
    guard: Guard,
) -> Route {
    Route {
        endpoint,
        methods,
        path,
        guard,
        names_dms: None,
    }
}

const fn naming_dms(mut route: Route, by: &'static str) -> Route {
    route.names_dms = Some(by);
    route
}

use Endpoint::{Connection, Sharing, Tunnel};
use Guard::{AccountSession, ClientAssertion, DmsToken, Open, ShareLink};

/// Every route the cloud serves.
pub const ROUTES: &[Route] = &[
    route(Connection, &["POST"], "/account/login", Open),
    route(Connection, &["POST"], "/account/logout", AccountSession),
    route(Connection, &["POST"], "/oauth/device_authorization", Open),
    route(Connection, &["GET"], "/device", Open),
    route(Connection, &["POST"], "/device/approve", AccountSession),
    route(Connection, &["GET"], "/device/done", AccountSession),
    route(Connection, &["POST"], "/oauth/token", ClientAssertion),
    route(Connection, &["POST"], "/oauth/revoke", ClientAssertion),
    route(Connection, &["GET"], "/api/dms/self", DmsToken),
    naming_dms(
        route(Connection, &["GET"], "/api/dms/{dms_id}", DmsToken),
        "dms_id",
    ),
    route(Connection, &["POST"], "/api/dms/shares", DmsToken),
    route(Connection, &["POST"], "/api/dms/shares/delete", DmsToken),
    route(
        Connection,
        &["POST"],
        "/api/org/members/role",
        AccountSession,
    ),
    route(
        Connection,
        &["GET", "POST"],
        "/api/org/remote-access",
        AccountSession,
    ),
    route(Connection, &["POST"], "/api/org/dms/remove", AccountSession),
    route(Sharing, &["GET"], "/api/shares", AccountSession),
    route(Sharing, &["POST"], "/account/login", Open),
    route(Sharing, &["POST"], "/account/logout", AccountSession),
    route(Sharing, &["GET", "POST"], "/account/create", Open),
    route(Sharing, &["POST"], "/account/create/code", Open),
    route(Sharing, &["GET"], "/s/{token}", ShareLink),
    route(Sharing, &["*"], "/s/{token}/", ShareLink),
    route(Sharing, &["*"], "/s/{token}/{*rest}", ShareLink),
    naming_dms(
        route(
            Sharing,
            &["*"],
            "/dms/{dms_id}/API/v1/Json.asmx/{method}",
            AccountSession,
        ),
        "dms_id",
    ),
    naming_dms(
        route(Tunnel, &["*"], "/", DmsToken),
        super::bearer::DMS_HEADER,
    ),
];

/// The routes of one host, as the table lists them.
pub fn of(endpoint: Endpoint) -> impl Iterator<Item = &'static Route> {
    ROUTES.iter().filter(move |r| r.endpoint == endpoint)
}

fn listed(endpoint: Endpoint, path: &str) -> bool {
    of(endpoint).any(|r| r.path == path)
}

/// A router being built for one host: a path the table does not list for it is not served
/// (and is kept in `unlisted`, which a test reads).
pub(crate) struct Served {
    endpoint: Endpoint,
    router: axum::Router<Arc<CloudState>>,
    served: Vec<&'static str>,
    unlisted: Vec<&'static str>,
}

impl Served {
    pub fn on(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            router: axum::Router::new(),
            served: Vec::new(),
            unlisted: Vec::new(),
        }
    }

    pub fn route(mut self, path: &'static str, handler: MethodRouter<Arc<CloudState>>) -> Self {
        if listed(self.endpoint, path) {
            self.router = self.router.route(path, handler);
            self.served.push(path);
        } else {
            tracing::error!(
                host = self.endpoint.host(),
                path,
                "route not in the published table: not served"
            );
            self.unlisted.push(path);
        }
        self
    }

    pub fn with_state(self, state: Arc<CloudState>) -> axum::Router {
        self.router.with_state(state)
    }

    #[cfg(test)]
    pub fn paths(&self) -> (&[&'static str], &[&'static str]) {
        (&self.served, &self.unlisted)
    }
}

#[cfg(test)]
mod tests;
