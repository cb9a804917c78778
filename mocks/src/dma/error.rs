//! How a refused or failed Web Services call answers, for every method's code.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Map, Value, json};

use crate::dms::ControlError;

/// A refused or failed call, in its wire form.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DmaError {
    #[error("Unknown web method {0}.")]
    UnknownMethod(String),
    #[error("Invalid request: {0}")]
    BadRequest(String),
    #[error("Invalid login or password.")]
    InvalidLogin,
    #[error("Invalid connection: log in with ConnectApp first.")]
    NoSession,
    #[error("No such element {0}/{1}.")]
    NoElement(u32, u32),
    #[error("No such parameter {0} on element {1}/{2}.")]
    NoParameter(u32, u32, u32),
    #[error("No such view {0}.")]
    NoView(u32),
    #[error("No such dashboard {0:?}.")]
    NoDashboard(String),
    #[error("No such share {0:?}.")]
    NoShare(String),
    /// The caller is known but not allowed to do this.
    #[error("Access denied: {0}")]
    Forbidden(String),
    #[error("{0}")]
    Gateway(#[from] ControlError),
}

impl IntoResponse for DmaError {
    fn into_response(self) -> Response {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "Message": self.to_string() })),
        )
            .into_response()
    }
}

/// The string member `key` of a call's body.
pub(super) fn text<'a>(body: &'a Map<String, Value>, key: &str) -> Result<&'a str, DmaError> {
    body.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| DmaError::BadRequest(format!("{key} is missing or not a string")))
}
