//! The cloud's connection endpoint in memory (no socket, no TLS), for the fuzz targets and the
//! property tests: a bearer token or an OAuth form of any bytes gets a clean 4xx.

use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use hyper::service::Service as _;
use hyper_util::service::TowerToHyperService;

use super::accounts::Accounts;
use super::{CloudState, connection};
use crate::world::{Clock, FaultSet, Lifetime};

/// The connection endpoint's router over a fresh cloud with the specified behaviour.
#[derive(Debug, Clone)]
pub struct ConnectionEndpoint {
    router: axum::Router,
}

impl Default for ConnectionEndpoint {
    fn default() -> Self {
        Self::new()
    }
}

impl ConnectionEndpoint {
    pub fn new() -> Self {
        let clock = Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        let state = CloudState::new(
            clock,
            FaultSet::none(),
            Accounts::new(Vec::new(), super::roles::RoleSource::Current),
            (
                format!("https://{}/", super::Endpoint::Connection.host()),
                format!("https://{}/", super::Endpoint::Sharing.host()),
            ),
            Lifetime::new(),
            super::Waits::default(),
            None,
        )
        .expect("an in-memory store opens");
        Self {
            router: connection::router(state),
        }
    }

    /// The status of `request` as the endpoint answers it.
    pub async fn status(&self, request: http::Request<Body>) -> u16 {
        let service = TowerToHyperService::new(self.router.clone());
        match service.call(request).await {
            Ok(response) => response.status().as_u16(),
            Err(never) => match never {},
        }
    }

    /// The status of `GET /api/dms/self` with `Authorization: Bearer <token>`; a token that
    /// cannot be a header value at all is refused before it reaches the cloud, as `None`.
    pub async fn bearer(&self, token: &[u8]) -> Option<u16> {
        let mut value = b"Bearer ".to_vec();
        value.extend_from_slice(token);
        let value = http::HeaderValue::from_bytes(&value).ok()?;
        let request = http::Request::get("/api/dms/self")
            .header(http::header::AUTHORIZATION, value)
            .body(Body::empty())
            .ok()?;
        Some(self.status(request).await)
    }

    /// The status of `POST path` with `body` as JSON.
    pub async fn form(&self, path: &str, body: &[u8]) -> Option<u16> {
        let request = http::Request::post(path)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_vec()))
            .ok()?;
        Some(self.status(request).await)
    }
}

/// The OAuth and account endpoints that read a form a peer sent.
pub const FORM_PATHS: &[&str] = &[
    "/account/login",
    "/oauth/device_authorization",
    "/device/approve",
    "/oauth/token",
    "/oauth/revoke",
];
