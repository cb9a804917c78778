//! What the sweep reads of the cloud's route table: which routes may be open, the path and
//! method a route is tried with, and how it is named in the matrix.

use mocks::cloud::{Endpoint, Route};

use crate::Failure;
use crate::clients::{CloudClient, Reply};

/// The routes the spec lets anyone reach without a credential: signing in, signing up, the
/// start of the connect flow and the page a person opens with a user code. Owned here, so a
/// route the cloud lists as open that is not one of these fails.
pub(super) const MAY_BE_OPEN: &[(&str, &str)] = &[
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

/// The route's path with the DMS it names (when it names one) and harmless values elsewhere.
pub(super) fn path_for(route: &Route, dms_id: &str) -> String {
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
pub(super) fn under_a_wildcard(routes: &[Route], endpoint: Endpoint, path: &str) -> bool {
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

pub(super) fn method_of(route: &Route) -> &'static str {
    match route.methods.first() {
        Some(&"*") | None => "GET",
        Some(method) => method,
    }
}

pub(super) fn item(route: &Route) -> String {
    format!(
        "{} {}{}",
        route.methods.join(","),
        route.endpoint.host(),
        route.path
    )
}

pub(super) async fn send(
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
