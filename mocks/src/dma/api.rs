//! `POST /API/v1/Json.asmx/<Method>`: a flat JSON body in, `{"d": ...}` out, and errors as
//! HTTP 500 `{"Message": ...}`, as DataMiner Web Services v1 answers them. The same API is served
//! on two channels: the public one (users, apps) and the gateway one (only the WAF forwards to
//! it, for the Cloud Gateway). The gateway channel serves only requests carrying the Cloud
//! Gateway's key ([`gateway`](super::gateway)); share users exist only there (USER-4).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Map, Value, json};

use super::dashboard_app;
use super::data::{self, Scope};
use super::error::{DmaError, text};
use super::reader::{Received, read, receive};
use super::records::{Arrival, ExecutedCall, Session};
use super::share_api;
use super::shares::StoredShareUser;
use super::trend::{self, Series, TREND_METHOD};
use super::users::User;
use super::{Channel, DmaState};
use crate::dms::{Caller, SHARE_SESSION_HEADER};
use crate::world::Fault;

#[derive(Debug)]
pub(crate) struct Endpoint {
    pub state: Arc<DmaState>,
    pub channel: Channel,
}

pub(crate) fn router(state: Arc<DmaState>, channel: Channel) -> axum::Router {
    axum::Router::new()
        .fallback(call)
        .with_state(Arc::new(Endpoint { state, channel }))
}

async fn call(State(endpoint): State<Arc<Endpoint>>, request: Request) -> Response {
    // Test-only: a bug that crashes the connection's task, to show the harness contains it.
    #[allow(clippy::panic)]
    if endpoint.state.faults.is_on(Fault::TestPanicInDmaTask) {
        panic!("the DMA's request task crashed (test.panic-in-dma-task)");
    }
    let Received { head, path, body } = receive(request).await;
    let admitted = match endpoint.channel {
        Channel::Public => Ok(()),
        Channel::Gateway => endpoint.state.gateway.admit(&head.headers),
    };
    endpoint.state.arrivals.record(Arrival {
        channel: endpoint.channel,
        verb: head.method.as_str().to_owned(),
        path: path.clone(),
        admitted: admitted.is_ok(),
        at_unix: endpoint.state.clock.unix_seconds(),
    });
    if let Err(reason) = admitted {
        return (StatusCode::FORBIDDEN, Json(json!({ "Message": reason }))).into_response();
    }
    if let Some(app) = dashboard_app::serve(
        &endpoint.state,
        endpoint.channel,
        &head.method,
        &path,
        &head.headers,
    ) {
        return app;
    }
    let answer = match read(&head, &path, body.as_deref()) {
        Ok((method, mut body)) => match gateway_session(endpoint.channel, &head.headers, &mut body)
        {
            Ok(()) => dispatch(&endpoint.state, endpoint.channel, &method, &body).await,
            Err(refused) => Err(refused),
        },
        Err(refused) => Err(DmaError::BadRequest(refused.to_string())),
    };
    match answer {
        Ok(Answer::Value(d)) => Json(json!({ "d": d })).into_response(),
        Ok(Answer::Trend(series)) => series.into_response(&endpoint.state.trends),
        Err(error) => error.into_response(),
    }
}

/// On the gateway channel, the share session the Cloud Gateway attached is the call's
/// connection: a body that names another one is refused, so a browser cannot swap sessions.
fn gateway_session(
    channel: Channel,
    headers: &http::HeaderMap,
    body: &mut Map<String, Value>,
) -> Result<(), DmaError> {
    if channel != Channel::Gateway {
        return Ok(());
    }
    let mut sent = headers.get_all(SHARE_SESSION_HEADER).iter();
    let session = match (sent.next(), sent.next()) {
        (None, _) => return Ok(()),
        (Some(session), None) => session
            .to_str()
            .map_err(|_| DmaError::BadRequest("the share session is not text".into()))?,
        _ => return Err(DmaError::BadRequest("two share sessions".into())),
    };
    match body.get("connection") {
        None => {
            body.insert("connection".into(), Value::String(session.to_owned()));
            Ok(())
        }
        Some(Value::String(named)) if named == session => Ok(()),
        Some(_) => Err(DmaError::Forbidden(
            "the call names another connection than the Cloud Gateway's session".into(),
        )),
    }
}

/// What a call answers: a JSON value, or a trend written as the reader takes it.
#[derive(Debug)]
enum Answer {
    Value(Value),
    Trend(Series),
}

async fn dispatch(
    state: &DmaState,
    channel: Channel,
    method: &str,
    body: &Map<String, Value>,
) -> Result<Answer, DmaError> {
    if method == "ConnectApp" {
        return connect_app(state, channel, body);
    }
    let connection = text(body, "connection")?;
    if let Some(user) = state.users.user_of(connection) {
        let answer = if method == TREND_METHOD {
            trend::plan(state, Scope::Everything, body).map(Answer::Trend)
        } else if let Err(refused) = state.rights.check(channel, user.role, method) {
            Err(refused)
        } else {
            dispatch_user(state, &user, connection, method, body)
                .await
                .map(Answer::Value)
        };
        let session = Session {
            channel,
            connection,
            login: &user.login,
            share: None,
        };
        return executed(state, &session, method, body, answer);
    }
    let share = state
        .shares
        .user_of(connection)
        .filter(|share| share.served_on(channel))
        .ok_or(DmaError::NoSession)?;
    let answer = if method == TREND_METHOD {
        trend::plan(state, share_scope(&share), body).map(Answer::Trend)
    } else {
        dispatch_share(state, &share, connection, method, body).map(Answer::Value)
    };
    let session = Session {
        channel,
        connection,
        login: &share.login,
        share: Some(&share.share_id),
    };
    executed(state, &session, method, body, answer)
}

/// `ConnectApp{login, password, ...}`: a DMS user's session, or a share user's where it is
/// served.
fn connect_app(
    state: &DmaState,
    channel: Channel,
    body: &Map<String, Value>,
) -> Result<Answer, DmaError> {
    let login = text(body, "login")?;
    let password = text(body, "password")?;
    let (connection, user, share) = if let Some(connection) = state.users.connect(login, password) {
        let user = state
            .users
            .user_of(&connection)
            .map_or_else(|| login.to_owned(), |u| u.login);
        (connection, user, None)
    } else {
        let (connection, share) = state
            .shares
            .connect(login, password, channel)
            .ok_or(DmaError::InvalidLogin)?;
        (connection, share.login, Some(share.share_id))
    };
    let session = Session {
        channel,
        connection: &connection,
        login: &user,
        share: share.as_deref(),
    };
    let answer = Ok(Answer::Value(Value::String(connection.clone())));
    executed(state, &session, "ConnectApp", body, answer)
}

/// Puts a call that was carried out on the record; a refused one is not.
fn executed(
    state: &DmaState,
    session: &Session<'_>,
    method: &str,
    body: &Map<String, Value>,
    answer: Result<Answer, DmaError>,
) -> Result<Answer, DmaError> {
    if answer.is_ok() {
        state.executed.record(ExecutedCall::new(
            session,
            method,
            body,
            state.clock.unix_seconds(),
        ));
    }
    answer
}

async fn dispatch_user(
    state: &DmaState,
    user: &User,
    connection: &str,
    method: &str,
    body: &Map<String, Value>,
) -> Result<Value, DmaError> {
    match method {
        "LogOut" => Ok(json!(state.users.log_out(connection))),
        "ConnectToCloud" => {
            let pairing = state.cloud_gateway.enable(caller(user)).await?;
            Ok(
                json!({ "UserCode": pairing.user_code, "VerificationUri": pairing.verification_uri }),
            )
        }
        "DisconnectFromCloud" => {
            state.cloud_gateway.disconnect(caller(user)).await?;
            // What the Administrator is told: disabled, or disconnected with the cloud's
            // revocation still pending.
            Ok(json!({ "State": state.cloud_gateway.reported().await? }))
        }
        "GetCloudConnectionState" => Ok(json!(state.cloud_gateway.reported().await?)),
        "ShareDashboard" => share_api::share_dashboard(state, user, body).await,
        "DeleteShare" => share_api::delete_share(state, user, body).await,
        other => data::call(state, Scope::Everything, other, body)
            .unwrap_or_else(|| Err(DmaError::UnknownMethod(other.to_owned()))),
    }
}

/// A share user: the element methods within what it was granted, `LogOut`, and nothing else.
fn dispatch_share(
    state: &DmaState,
    share: &StoredShareUser,
    connection: &str,
    method: &str,
    body: &Map<String, Value>,
) -> Result<Value, DmaError> {
    if method == "LogOut" {
        return Ok(json!(state.shares.log_out(connection)));
    }
    match data::call(state, share_scope(share), method, body) {
        Some(answer) => answer,
        None if [
            "ConnectToCloud",
            "DisconnectFromCloud",
            "ShareDashboard",
            "DeleteShare",
        ]
        .contains(&method) =>
        {
            Err(DmaError::Forbidden(format!(
                "share users may not call {method}"
            )))
        }
        None => Err(DmaError::UnknownMethod(method.to_owned())),
    }
}

/// What a share user may reach: the items and views it was created with.
fn share_scope(share: &StoredShareUser) -> Scope<'_> {
    Scope::Share {
        items: &share.items,
        views: &share.views,
        can_write: share.may_write,
    }
}

fn caller(user: &User) -> Caller {
    Caller {
        user: user.login.clone(),
        permissions: user.role.permissions(),
    }
}
