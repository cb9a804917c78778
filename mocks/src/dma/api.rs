//! `POST /API/v1/Json.asmx/<Method>`: a flat JSON body in, `{"d": ...}` out, and errors as
//! HTTP 500 `{"Message": ...}`, as DataMiner Web Services v1 answers them.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::StatusCode;
use serde_json::{Map, Value, json};

use super::DmaState;
use super::ids::read_id;
use super::users::User;
use crate::agent::{AgentError, Caller};

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
    #[error("{0}")]
    Agent(#[from] AgentError),
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

pub(crate) fn router(state: Arc<DmaState>) -> axum::Router {
    axum::Router::new()
        .route("/API/v1/Json.asmx/{method}", post(call))
        .with_state(state)
}

async fn call(
    State(state): State<Arc<DmaState>>,
    Path(method): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let answer = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(body)) => dispatch(&state, &method, &body).await,
        _ => Err(DmaError::BadRequest(
            "the body must be a JSON object".into(),
        )),
    };
    match answer {
        Ok(d) => Json(json!({ "d": d })).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn dispatch(
    state: &DmaState,
    method: &str,
    body: &Map<String, Value>,
) -> Result<Value, DmaError> {
    if method == "ConnectApp" {
        let login = text(body, "login")?;
        let password = text(body, "password")?;
        return state
            .users
            .connect(login, password)
            .map(Value::String)
            .ok_or(DmaError::InvalidLogin);
    }
    let connection = text(body, "connection")?;
    let user = state.users.user_of(connection).ok_or(DmaError::NoSession)?;
    match method {
        "LogOut" => Ok(json!(state.users.log_out(connection))),
        "GetElement" => with_element(state, body, |e| {
            Ok(json!({
                "DataMinerID": e.dma_id, "ID": e.element_id, "Name": e.name,
                "Protocol": e.protocol, "ProtocolVersion": e.protocol_version, "View": e.view,
            }))
        }),
        "GetParameter" => {
            let parameter = read_id(body, "parameterID").map_err(DmaError::BadRequest)?;
            with_element(state, body, |e| {
                let p = e
                    .parameters
                    .iter()
                    .find(|p| p.id == parameter)
                    .ok_or(DmaError::NoParameter(parameter, e.dma_id, e.element_id))?;
                Ok(json!({ "ID": p.id, "Name": p.name, "Value": p.value, "Unit": p.unit }))
            })
        }
        "SetParameter" => {
            let parameter = read_id(body, "parameterID").map_err(DmaError::BadRequest)?;
            let value = text(body, "value")?.to_owned();
            with_element_mut(state, body, |e| {
                let (dma, element) = (e.dma_id, e.element_id);
                let p = e
                    .parameters
                    .iter_mut()
                    .find(|p| p.id == parameter)
                    .ok_or(DmaError::NoParameter(parameter, dma, element))?;
                p.value = value;
                Ok(Value::Null)
            })
        }
        "GetActiveAlarmsForElement" => with_element(state, body, |e| {
            Ok(Value::Array(
                e.alarms
                    .iter()
                    .map(|a| json!({
                        "AlarmID": a.alarm_id, "DataMinerID": e.dma_id, "ElementID": e.element_id,
                        "ParameterID": a.parameter_id, "Severity": a.severity, "Value": a.value,
                    }))
                    .collect(),
            ))
        }),
        "ConnectToCloud" => {
            let pairing = state.agent.enable(caller(&user)).await?;
            Ok(
                json!({ "UserCode": pairing.user_code, "VerificationUri": pairing.verification_uri }),
            )
        }
        "DisconnectFromCloud" => {
            state.agent.disconnect(caller(&user)).await?;
            Ok(Value::Null)
        }
        "GetCloudConnectionState" => Ok(json!(state.agent.reported().await?)),
        other => Err(DmaError::UnknownMethod(other.to_owned())),
    }
}

fn caller(user: &User) -> Caller {
    Caller {
        user: user.login.clone(),
        permissions: user.role.permissions(),
    }
}

fn text<'a>(body: &'a Map<String, Value>, key: &str) -> Result<&'a str, DmaError> {
    body.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| DmaError::BadRequest(format!("{key} is missing or not a string")))
}

fn element_key(body: &Map<String, Value>) -> Result<(u32, u32), DmaError> {
    let dma = read_id(body, "dmaID").map_err(DmaError::BadRequest)?;
    let element = read_id(body, "elementID").map_err(DmaError::BadRequest)?;
    Ok((dma, element))
}

fn with_element(
    state: &DmaState,
    body: &Map<String, Value>,
    read: impl FnOnce(&fixtures::Element) -> Result<Value, DmaError>,
) -> Result<Value, DmaError> {
    with_element_mut(state, body, |e| read(e))
}

fn with_element_mut(
    state: &DmaState,
    body: &Map<String, Value>,
    change: impl FnOnce(&mut fixtures::Element) -> Result<Value, DmaError>,
) -> Result<Value, DmaError> {
    let (dma, element) = element_key(body)?;
    let mut data = state.data.lock().unwrap_or_else(|p| p.into_inner());
    let found = data
        .elements
        .iter_mut()
        .find(|e| e.dma_id == dma && e.element_id == element)
        .ok_or(DmaError::NoElement(dma, element))?;
    change(found)
}
