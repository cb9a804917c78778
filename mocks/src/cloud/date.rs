//! Every answer carries the cloud's time in `Date` (RFC 9110 §6.6.1: an origin server with a
//! clock sends it), read from the environment's clock rather than the machine's, so a client
//! whose own clock drifted can tell how far off it is.

use axum::extract::State;
use axum::response::Response;
use http::HeaderValue;
use http::header::DATE;

use crate::world::Clock;

/// `router`, its answers dated on `clock`.
pub(crate) fn dated(router: axum::Router, clock: Clock) -> axum::Router {
    router.layer(axum::middleware::map_response_with_state(clock, stamp))
}

async fn stamp(State(clock): State<Clock>, mut response: Response) -> Response {
    if let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(clock.now())) {
        response.headers_mut().insert(DATE, value);
    }
    response
}
