//! The table and the routers agree: every served path is listed and every listed one served
//! (read from the builders), and on the routers themselves every listed route and method is
//! routed while a path off the table is not.

use std::collections::BTreeSet;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use http_body_util::BodyExt;
use hyper::service::Service as _;
use hyper_util::service::TowerToHyperService;

use super::{Served, of};
use crate::cloud::accounts::Accounts;
use crate::cloud::{CloudState, Endpoint, connection, sharing, tunnel};
use crate::world::{Clock, FaultSet, Lifetime};

fn builders() -> Vec<(Endpoint, Served)> {
    vec![
        (Endpoint::Connection, connection::routes()),
        (Endpoint::Sharing, sharing::routes()),
        (Endpoint::Tunnel, tunnel::routes()),
    ]
}

#[test]
fn every_served_path_is_in_the_table_and_every_listed_one_is_served() {
    for (endpoint, served) in builders() {
        let (paths, unlisted) = served.paths();
        assert!(
            unlisted.is_empty(),
            "{} builds routes the table does not list: {unlisted:?}",
            endpoint.host()
        );
        let served: BTreeSet<&str> = paths.iter().copied().collect();
        let listed: BTreeSet<&str> = of(endpoint).map(|r| r.path).collect();
        assert_eq!(served, listed, "{}", endpoint.host());
    }
}

#[test]
fn a_route_off_the_table_is_not_served() {
    let served = Served::on(Endpoint::Connection)
        .route("/api/dms/backdoor", axum::routing::get(|| async { "open" }));
    assert_eq!(served.paths().1, ["/api/dms/backdoor"]);
    assert!(!served.paths().0.contains(&"/api/dms/backdoor"));
}

fn state() -> std::sync::Arc<CloudState> {
    let clock = Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    CloudState::new(
        clock,
        FaultSet::none(),
        Accounts::new(Vec::new(), crate::cloud::roles::RoleSource::Current),
        (
            format!("https://{}/", Endpoint::Connection.host()),
            format!("https://{}/", Endpoint::Sharing.host()),
        ),
        Lifetime::new(),
        crate::cloud::Waits::default(),
        None,
    )
    .expect("an in-memory store opens")
}

/// The path with every `{segment}` filled in.
fn filled(template: &str) -> String {
    template
        .split('/')
        .map(|s| if s.starts_with('{') { "x1" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether the router routed the request to a handler: axum's own answers for a path it does
/// not route (404) or a method it does not (405) have an empty body; every handler's has one.
async fn routed(router: &axum::Router, method: &str, path: &str) -> bool {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .expect("a request");
    let service = TowerToHyperService::new(router.clone());
    let response = match service.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    !((status == 404 || status == 405) && body.is_empty())
}

#[tokio::test]
async fn the_routers_answer_what_the_table_lists_and_nothing_else() {
    let state = state();
    for (endpoint, served) in builders() {
        let router = served.with_state(state.clone());
        for route in of(endpoint) {
            let path = filled(route.path);
            let methods: Vec<&str> = if route.methods == ["*"] {
                vec!["GET", "POST", "PUT", "DELETE"]
            } else {
                route.methods.to_vec()
            };
            for method in &methods {
                assert!(
                    routed(&router, method, &path).await,
                    "{method} {} on {} is listed but not routed",
                    route.path,
                    endpoint.host()
                );
            }
            if route.methods != ["*"] {
                for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
                    if !methods.contains(&method) {
                        assert!(
                            !routed(&router, method, &path).await,
                            "{method} {} on {} is routed but the table lists {:?}",
                            route.path,
                            endpoint.host(),
                            route.methods
                        );
                    }
                }
            }
            let beyond = format!("{}/unlisted", path.trim_end_matches('/'));
            // A route that takes the rest of the path (`{*rest}`) lists this one too.
            if under_a_wildcard(endpoint, &beyond) {
                continue;
            }
            assert!(
                !routed(&router, "GET", &beyond).await,
                "{beyond} on {} is routed but not listed",
                endpoint.host()
            );
        }
    }
}

/// Whether `path` falls under a listed route of `endpoint` whose last segment takes the rest.
fn under_a_wildcard(endpoint: Endpoint, path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    of(endpoint).any(|r| {
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
