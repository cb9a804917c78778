//! Who the control endpoint answers: requests addressed to it by its own name. Binding
//! 127.0.0.1 keeps other machines out, not other names: a web page on any host name that the
//! attacker's DNS then points at 127.0.0.1 (DNS rebinding) reaches the port as a same-origin
//! page of that name, and could read the outbox or move time. Such a request carries the
//! page's name in `Host`, so the endpoint answers only `127.0.0.1:PORT` and `localhost:PORT`,
//! and refuses a request a page of another origin sent (its `Origin`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The names the control endpoint answers to.
#[derive(Debug, Clone)]
pub struct OwnHost {
    authorities: [String; 2],
}

impl OwnHost {
    pub fn of(addr: SocketAddr) -> Arc<Self> {
        let port = addr.port();
        Arc::new(Self {
            authorities: [format!("{}:{port}", addr.ip()), format!("localhost:{port}")],
        })
    }

    fn is_own(&self, authority: &str) -> bool {
        self.authorities
            .iter()
            .any(|own| own.eq_ignore_ascii_case(authority))
    }

    /// Whether `headers` (and the request target's authority, which HTTP/2 carries instead of
    /// `Host`) name this endpoint, and any `Origin` is a page of this endpoint's own.
    fn admits(&self, headers: &HeaderMap, target_authority: Option<&str>) -> bool {
        let host = headers
            .get(header::HOST)
            .map(|h| h.to_str().ok())
            .unwrap_or(target_authority);
        let origin_ok = match headers.get(header::ORIGIN) {
            None => true,
            Some(origin) => origin
                .to_str()
                .ok()
                .and_then(|o| o.strip_prefix("http://"))
                .is_some_and(|authority| self.is_own(authority)),
        };
        host.is_some_and(|h| self.is_own(h)) && origin_ok
    }
}

/// Passes on a request addressed to this endpoint; answers any other 403.
pub async fn own_host_only(
    State(own): State<Arc<OwnHost>>,
    request: Request,
    next: Next,
) -> Response {
    let authority = request.uri().authority().map(|a| a.as_str().to_owned());
    if own.admits(request.headers(), authority.as_deref()) {
        return next.run(request).await;
    }
    let error = format!(
        "this control endpoint answers only requests to {} (or {}), from no other page",
        own.authorities[0], own.authorities[1]
    );
    (StatusCode::FORBIDDEN, Json(json!({ "error": error }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                name.clone(),
                HeaderValue::from_str(value).expect("a header value"),
            );
        }
        map
    }

    #[test]
    fn only_its_own_address_or_localhost_with_its_port_is_answered() {
        let own = OwnHost::of("127.0.0.1:4100".parse().expect("an address"));
        for host in ["127.0.0.1:4100", "localhost:4100", "LOCALHOST:4100"] {
            assert!(
                own.admits(&headers(&[(header::HOST, host)]), None),
                "{host}"
            );
        }
        for host in [
            "rebind.evil.example:4100",
            "127.0.0.1",
            "127.0.0.1:4101",
            "127.0.0.2:4100",
            "localhost.evil.example:4100",
        ] {
            assert!(
                !own.admits(&headers(&[(header::HOST, host)]), None),
                "{host}"
            );
        }
        assert!(!own.admits(&HeaderMap::new(), None));
        assert!(own.admits(&HeaderMap::new(), Some("127.0.0.1:4100")));
    }

    #[test]
    fn a_request_a_page_of_another_origin_sent_is_refused() {
        let own = OwnHost::of("127.0.0.1:4100".parse().expect("an address"));
        let host = (header::HOST, "127.0.0.1:4100");
        assert!(own.admits(
            &headers(&[host.clone(), (header::ORIGIN, "http://127.0.0.1:4100")]),
            None
        ));
        for origin in [
            "http://evil.example",
            "http://127.0.0.1:4100.evil.example",
            "https://127.0.0.1:4100",
            "null",
        ] {
            assert!(
                !own.admits(&headers(&[host.clone(), (header::ORIGIN, origin)]), None),
                "{origin}"
            );
        }
    }
}
