//! `wss://tunnel.dataminer.services/`: the agent's outbound WebSocket, admitted only with a
//! valid bearer token at the upgrade, and closed when its token family is revoked.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Message, http};
use tokio_util::sync::CancellationToken;

use super::CloudState;
use super::tokens::{Claims, TokenError};
use crate::world::Observed;
use crate::world::net::Accepted;

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

/// Runs one tunnel connection from upgrade to close.
pub(crate) async fn serve(state: Arc<CloudState>, stream: Accepted) {
    let mut admitted: Option<Claims> = None;
    // The callback's signature is tungstenite's; its error type is the HTTP refusal itself.
    #[allow(clippy::result_large_err)]
    let check = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
        state.requests.record_head(
            super::Endpoint::Tunnel.host(),
            request.method(),
            request.uri(),
            request.headers(),
            state.clock.unix_seconds(),
        );
        match super::connection::authenticate(&state, request.headers()) {
            Ok(claims) => {
                admitted = Some(claims);
                Ok(response)
            }
            Err(refused) => Err(refusal(&refused)),
        }
    };
    let upgraded = tokio_tungstenite::accept_hdr_async(stream, check).await;
    let now = state.clock.unix_seconds();
    let (mut ws, claims) = match (upgraded, admitted) {
        (Ok(ws), Some(claims)) => (ws, claims),
        (Err(error), _) => return state.tunnels.refused(error.to_string(), now),
        (Ok(_), None) => {
            return state
                .tunnels
                .refused("upgrade without admission".into(), now);
        }
    };
    let record = state.tunnels.open(&claims, now);
    loop {
        tokio::select! {
            () = record.close.cancelled() => {
                let _ = ws.send(Message::Close(Some(CloseFrame {
                    code: CloseCode::Policy,
                    reason: "token revoked".into(),
                }))).await;
                break;
            }
            message = ws.next() => match message {
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                // Pings are answered by the WebSocket layer itself; streams arrive with the
                // tunnel protocol.
                Some(Ok(_)) => {}
            }
        }
    }
    state.tunnels.closed(record.id, state.clock.unix_seconds());
}

fn refusal(refused: &TokenError) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(refused.to_string()));
    *response.status_mut() = http::StatusCode::UNAUTHORIZED;
    response
}
