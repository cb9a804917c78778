//! How the OAuth endpoints speak (RFC 6749 §3.2 and §5, RFC 8628 §3, RFC 7009 §2): requests
//! are `application/x-www-form-urlencoded` parameters, each named at most once (a JSON object
//! of strings is taken too, as an extension); answers are JSON that no cache keeps; errors are
//! RFC 6749 §5.2 objects with a registered `error` code and an ASCII `error_description`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde_json::Value;

/// The largest parameter set read: OAuth requests are a few hundred bytes.
const PARAMS_LIMIT: usize = 64 * 1024;

/// The parameters of an OAuth request, by name. A parameter sent without a value is taken as
/// omitted (RFC 6749 §3.1).
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(BTreeMap<String, String>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `name`, or an `invalid_request` naming it.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| {
            OAuthError::new(
                ErrorCode::InvalidRequest,
                format!("missing parameter {name}"),
            )
        })
    }

    fn form(body: &[u8]) -> Result<Self, OAuthError> {
        let mut params = BTreeMap::new();
        for (name, value) in form_urlencoded::parse(body) {
            if params
                .insert(name.clone().into_owned(), value.into_owned())
                .is_some()
            {
                return Err(OAuthError::new(
                    ErrorCode::InvalidRequest,
                    format!("parameter {name} named more than once"),
                ));
            }
        }
        Ok(Self(params))
    }

    /// A JSON object whose members are all strings: the same parameters, spelt as JSON.
    fn json(body: &[u8]) -> Result<Self, OAuthError> {
        let not_params = || {
            OAuthError::new(
                ErrorCode::InvalidRequest,
                "a JSON body must be an object of string parameters",
            )
        };
        let Value::Object(members) = serde_json::from_slice(body).map_err(|_| not_params())? else {
            return Err(not_params());
        };
        members
            .into_iter()
            .map(|(name, value)| match value {
                Value::String(text) => Ok((name, text)),
                _ => Err(not_params()),
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = OAuthError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let media = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|_| OAuthError::new(ErrorCode::InvalidRequest, "unreadable body"))?;
        if body.len() > PARAMS_LIMIT {
            return Err(OAuthError::new(ErrorCode::InvalidRequest, "body too large"));
        }
        match media.as_deref() {
            Some("application/x-www-form-urlencoded") => Self::form(&body),
            Some("application/json") => Self::json(&body),
            _ => Err(OAuthError::new(
                ErrorCode::InvalidRequest,
                "parameters must be sent as application/x-www-form-urlencoded",
            )),
        }
    }
}

/// The error codes the OAuth endpoints answer with, each with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    /// A parameter is missing, repeated or malformed (RFC 6749 §5.2).
    InvalidRequest,
    /// Client authentication failed: no assertion, a bad one, or one of another key.
    InvalidClient,
    /// The device code or refresh key is unknown, spent or revoked.
    InvalidGrant,
    UnsupportedGrantType,
    /// The approver has not acted yet (RFC 8628 §3.5).
    AuthorizationPending,
    /// The client polls faster than the interval (RFC 8628 §3.5).
    SlowDown,
    /// The approver denied the request (RFC 8628 §3.5).
    AccessDenied,
    /// The device code is past its `expires_in` (RFC 8628 §3.5).
    ExpiredToken,
    /// The cloud could not complete the request.
    ServerError,
}

impl ErrorCode {
    fn wire(self) -> (StatusCode, &'static str) {
        let bad = StatusCode::BAD_REQUEST;
        match self {
            ErrorCode::InvalidRequest => (bad, "invalid_request"),
            // RFC 6749 §5.2 allows 400 when the client did not use the Authorization header.
            ErrorCode::InvalidClient => (bad, "invalid_client"),
            ErrorCode::InvalidGrant => (bad, "invalid_grant"),
            ErrorCode::UnsupportedGrantType => (bad, "unsupported_grant_type"),
            ErrorCode::AuthorizationPending => (bad, "authorization_pending"),
            ErrorCode::SlowDown => (bad, "slow_down"),
            ErrorCode::AccessDenied => (bad, "access_denied"),
            ErrorCode::ExpiredToken => (bad, "expired_token"),
            ErrorCode::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        }
    }
}

/// An OAuth error response (RFC 6749 §5.2).
#[derive(Debug, Clone)]
pub(crate) struct OAuthError {
    pub code: ErrorCode,
    description: String,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    pub fn code(code: ErrorCode) -> Self {
        Self::new(code, "")
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let (status, error) = self.code.wire();
        let mut body = serde_json::json!({ "error": error });
        let description = error_description(&self.description);
        if !description.is_empty() {
            body["error_description"] = Value::String(description);
        }
        no_store(status, body)
    }
}

/// A JSON answer of the OAuth endpoints: never kept by a cache (RFC 6749 §5.1).
pub(crate) fn no_store(status: StatusCode, body: Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// RFC 6749 §5.2 allows only printable ASCII without `"` and `\` in a description.
fn error_description(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_parameters_are_decoded_once_each_and_empty_ones_are_omitted() {
        let params =
            Params::form(b"grant_type=refresh_token&refresh_token=a%2Bb+c&scope=").unwrap();
        assert_eq!(params.get("refresh_token"), Some("a+b c"));
        assert_eq!(params.get("scope"), None);
        assert!(params.require("scope").is_err());
        let twice = Params::form(b"a=1&a=2").unwrap_err();
        assert_eq!(twice.code, ErrorCode::InvalidRequest);
        assert!(Params::json(br#"{"a":"1","b":2}"#).is_err());
        assert_eq!(Params::json(br#"{"a":"1"}"#).unwrap().get("a"), Some("1"));
    }

    #[test]
    fn descriptions_stay_within_the_rfc_alphabet() {
        assert_eq!(error_description("say \"hi\" \\ é"), "say ?hi? ? ?");
    }
}
