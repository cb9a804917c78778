//! `wss://tunnel.dataminer.services/`: the agent's outbound WebSocket, admitted only with a
//! valid bearer token at the upgrade (RFC 6455 §4.2 over HTTP/1.1), and closed when its token
//! family is revoked. Anything else gets an HTTP answer that says why.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use http::{HeaderMap, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_util::sync::CancellationToken;

use super::CloudState;
use super::connection::authenticate;
use super::tokens::{CLOCK_SKEW, Claims};
use crate::world::Observed;

/// Something that happened to a tunnel, as the cloud saw it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum TunnelEvent {
    Opened {
        id: u64,
        dms_id: String,
        at_unix: u64,
    },
    Refused {
        reason: String,
        at_unix: u64,
    },
    Closed {
        id: u64,
        dms_id: String,
        at_unix: u64,
    },
}

/// A tunnel that is up now.
#[derive(Debug, Clone)]
pub struct TunnelRecord {
    pub id: u64,
    pub dms_id: String,
    family: String,
    close: CancellationToken,
}

#[derive(Debug, Default)]
struct Book {
    next_id: u64,
    live: BTreeMap<u64, TunnelRecord>,
    events: Vec<TunnelEvent>,
}

/// The cloud's record of tunnels: the ones up now, and everything that happened.
#[derive(Debug, Clone, Default)]
pub struct Tunnels(Observed<Book>);

impl Tunnels {
    pub fn live(&self) -> Vec<TunnelRecord> {
        self.0.read(|b| b.live.values().cloned().collect())
    }

    pub fn events(&self) -> Vec<TunnelEvent> {
        self.0.read(|b| b.events.clone())
    }

    /// Waits until `dms_id` has `want` live tunnels; false when `bound` passed first.
    pub async fn wait_live(&self, dms_id: &str, want: usize, bound: Duration) -> bool {
        self.0
            .wait_for(bound, |b| {
                (b.live.values().filter(|t| t.dms_id == dms_id).count() == want).then_some(())
            })
            .await
            .is_some()
    }

    pub(crate) fn close_family(&self, family: &str) {
        self.0.read(|b| {
            b.live
                .values()
                .filter(|t| t.family == family)
                .for_each(|t| t.close.cancel())
        });
    }

    fn open(&self, claims: &Claims, at_unix: u64) -> TunnelRecord {
        self.0.update(|b| {
            b.next_id += 1;
            let record = TunnelRecord {
                id: b.next_id,
                dms_id: claims.sub.clone(),
                family: claims.fam.clone(),
                close: CancellationToken::new(),
            };
            b.live.insert(record.id, record.clone());
            b.events.push(TunnelEvent::Opened {
                id: record.id,
                dms_id: record.dms_id.clone(),
                at_unix,
            });
            record
        })
    }

    fn refused(&self, reason: String, at_unix: u64) {
        self.0
            .update(|b| b.events.push(TunnelEvent::Refused { reason, at_unix }));
    }

    fn closed(&self, id: u64, at_unix: u64) {
        self.0.update(|b| {
            if let Some(t) = b.live.remove(&id) {
                b.events.push(TunnelEvent::Closed {
                    id,
                    dms_id: t.dms_id,
                    at_unix,
                });
            }
        });
    }
}

pub(crate) fn router(state: Arc<CloudState>) -> axum::Router {
    axum::Router::new()
        .route("/", axum::routing::any(upgrade))
        .with_state(state)
}

/// Admits a WebSocket upgrade that carries a valid token, and runs the tunnel on its own task.
async fn upgrade(State(state): State<Arc<CloudState>>, mut request: Request) -> Response {
    let now = state.clock.unix_seconds();
    let claims = match authenticate(&state, request.headers()) {
        Ok(claims) => claims,
        Err(refused) => {
            state.tunnels.refused(refused.to_string(), now);
            return refused.into_response();
        }
    };
    let Some(accept) = websocket_accept(request.headers()) else {
        state.tunnels.refused("not a WebSocket upgrade".into(), now);
        return (
            StatusCode::UPGRADE_REQUIRED,
            [(header::UPGRADE, "websocket")],
            Json(serde_json::json!({ "error": "websocket_upgrade_required" })),
        )
            .into_response();
    };
    let upgrading = hyper::upgrade::on(&mut request);
    // Registered before the 101 goes out: once the agent sees its tunnel admitted, the cloud
    // already counts it, so a make-before-break handover never shows a gap that was not there.
    let record = state.tunnels.open(&claims, now);
    let tunnel_state = state.clone();
    state.lifetime.spawn(async move {
        if let Ok(upgraded) = upgrading.await {
            let ws =
                WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
            run(&tunnel_state, ws, &record, claims.exp).await;
        }
        tunnel_state
            .tunnels
            .closed(record.id, tunnel_state.clock.unix_seconds());
    });
    (
        StatusCode::SWITCHING_PROTOCOLS,
        [
            (header::UPGRADE, "websocket".to_owned()),
            (header::CONNECTION, "Upgrade".to_owned()),
            (header::SEC_WEBSOCKET_ACCEPT, accept),
        ],
    )
        .into_response()
}

/// The `Sec-WebSocket-Accept` value for a well-formed RFC 6455 upgrade request.
fn websocket_accept(headers: &HeaderMap) -> Option<String> {
    let has = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|v| v.trim().eq_ignore_ascii_case(token))
    };
    let upgrade = has(header::UPGRADE, "websocket") && has(header::CONNECTION, "upgrade");
    let version = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(|v| v.as_bytes())
        == Some(b"13");
    let key = headers.get(header::SEC_WEBSOCKET_KEY)?;
    (upgrade && version).then(|| derive_accept_key(key.as_bytes()))
}

/// Runs one admitted tunnel until either side closes it, its family is revoked, or the token
/// it was admitted with expires.
async fn run<S>(state: &CloudState, mut ws: WebSocketStream<S>, record: &TunnelRecord, expires: u64)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut ticks = state.clock.watch();
    let closing = |reason: &'static str| {
        Message::Close(Some(CloseFrame {
            code: CloseCode::Policy,
            reason: reason.into(),
        }))
    };
    loop {
        tokio::select! {
            () = record.close.cancelled() => {
                let _ = ws.send(closing("token revoked")).await;
                break;
            }
            changed = ticks.changed() => {
                if changed.is_err() || state.clock.unix_seconds() > expires + CLOCK_SKEW.as_secs() {
                    let _ = ws.send(closing("token expired")).await;
                    break;
                }
            }
            message = ws.next() => match message {
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                // Pings are answered by the WebSocket layer itself; streams arrive with the
                // tunnel protocol.
                Some(Ok(_)) => {}
            }
        }
    }
}
