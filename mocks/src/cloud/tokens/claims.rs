//! A DMS token's claims, as issued and as `jose` reads them, and why a token is refused.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use serde::{Deserialize, Serialize};

pub(crate) const ISSUER: &str = "https://connection.dataminer.services/";
pub(crate) const AUDIENCE: &str = "dataminer.services";

/// The claims of a DMS token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The DMS the token was issued to.
    pub sub: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    /// Not before; the cloud issues none, but honours one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    pub jti: String,
    /// The token family: every token and refresh key descending from one connect flow.
    pub fam: String,
    pub org: String,
}

/// Why a token was refused. Each refusal is a 401 with an RFC 6750 error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenError {
    /// No bearer token in the request.
    #[error("no bearer token")]
    Missing,
    /// Not a well-formed HS256 JWT signed with our key, or a claim is wrong.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// Past `exp` plus the allowed skew.
    #[error("token expired")]
    Expired,
    /// Its family was revoked (disconnect, or a replayed refresh key).
    #[error("token revoked")]
    Revoked,
    /// A valid token, used for a DMS it was not issued to (RFC 6750 §3.1: 403).
    #[error("the token of DMS {token_for} may not act for DMS {asked}")]
    Forbidden { token_for: String, asked: String },
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let description = self.to_string();
        let (status, error) = match self {
            TokenError::Forbidden { .. } => (StatusCode::FORBIDDEN, "insufficient_scope"),
            _ => (StatusCode::UNAUTHORIZED, "invalid_token"),
        };
        (
            status,
            [(
                header::WWW_AUTHENTICATE,
                format!("Bearer error=\"{error}\", error_description=\"{description}\""),
            )],
            Json(serde_json::json!({ "error": error, "error_description": description })),
        )
            .into_response()
    }
}
