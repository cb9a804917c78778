//! `wss://tunnel.dataminer.services/`: the agent's outbound WebSocket, admitted only with a
//! valid bearer token at the upgrade (RFC 6455 §4.2 over HTTP/1.1), and closed when its token
//! family is revoked. Anything else gets an HTTP answer that says why.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_util::sync::CancellationToken;

use super::CloudState;
use super::bearer::authenticate;
use super::streams::Streams;
use super::tokens::{CLOCK_SKEW, Claims};
use crate::tunnel_io::{WsIo, tunnel_config};
use crate::world::{Fault, Observed};

/// The largest HTTP/2 frame the cloud accepts in a tunnel.
const FRAME_SIZE: u32 = 256 * 1024;
/// How long a closing tunnel waits for its close frame to go out before the socket goes.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// How often the cloud pings each tunnel, in simulated time.
const KEEPALIVE: Duration = Duration::from_secs(30);
/// How long the cloud waits for a keepalive's pong by default, in real time (it is network
/// time): an agent that does not answer in time is taken for dead and its tunnel closed.
pub const PING_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a tunnel the agent is draining (HTTP/2 GOAWAY) may take to finish its streams.
const DRAIN_GRACE: Duration = Duration::from_secs(30);
/// The most tunnels one DMS holds at once: the agent's own during a make-before-break renewal
/// (twice its set) and a redial beside a tunnel not yet known dead, with room to spare. One
/// token opening more (a stolen one, or a looping agent) closes its DMS's oldest, so no peer
/// grows the cloud's tables (TUN-1), and the DMS's own agent, dialling again, wins its place
/// back.
const MOST_PER_DMS: usize = 8;

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
    freeze: CancellationToken,
}

#[derive(Debug, Default)]
struct Book {
    next_id: u64,
    live: BTreeMap<u64, TunnelRecord>,
    events: Vec<TunnelEvent>,
    /// Per live tunnel, the simulated second up to which its keepalive has acted (a ping it
    /// sent answered or given up on): what `settle` waits for.
    acted: BTreeMap<u64, u64>,
}

/// The cloud's record of tunnels: the ones up now, and everything that happened; and the
/// HTTP/2 senders of the live ones.
#[derive(Debug, Clone, Default)]
pub struct Tunnels(Observed<Book>, Streams);

impl Tunnels {
    pub(crate) fn streams(&self) -> &Streams {
        &self.1
    }

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

    /// Waits until every live tunnel's keepalive has acted on the clock up to `now` (its pings
    /// answered, or given up on and the tunnel closed), so a scenario that advanced the clock
    /// observes the cloud's verdict, not a race with it. Gives up after `bound`.
    pub async fn settle(&self, now: u64, bound: Duration) {
        let _ = self
            .0
            .wait_for(bound, |b| {
                b.live
                    .keys()
                    .all(|id| b.acted.get(id).is_none_or(|t| *t >= now))
                    .then_some(())
            })
            .await;
    }

    fn acted(&self, id: u64, up_to: u64) {
        self.0.update(|b| {
            if b.live.contains_key(&id) {
                b.acted.insert(id, up_to);
            }
        });
    }

    /// Closes tunnel `id` from the cloud's side, as an operator or a failing node would: its
    /// streams in flight fail, and the agent is expected to dial again.
    pub fn close(&self, id: u64) {
        self.0.read(|b| {
            if let Some(t) = b.live.get(&id) {
                t.close.cancel();
            }
        });
    }

    /// Makes tunnel `id` go silent, as a crashed node or a middlebox that drops packets would:
    /// the cloud stops reading it, so nothing the agent sends (pings included) is answered, and
    /// it stays on the record as live until it is closed.
    pub fn freeze(&self, id: u64) {
        self.0.read(|b| {
            if let Some(t) = b.live.get(&id) {
                t.freeze.cancel();
            }
        });
    }

    /// Waits until `dms_id` has `want` tunnels whose HTTP/2 connection is up and takes streams
    /// (a tunnel is on the record from its 101 on; its HTTP/2 handshake follows); false when
    /// `bound` passed first.
    pub async fn wait_ready(&self, dms_id: &str, want: usize, bound: Duration) -> bool {
        self.1.wait_ready(dms_id, want, bound).await
    }

    /// How many streams each tunnel carried, by tunnel ID (closed tunnels included).
    pub fn streams_carried(&self) -> BTreeMap<u64, u64> {
        self.1.carried()
    }

    pub(crate) fn close_family(&self, family: &str) {
        self.0.read(|b| {
            b.live
                .values()
                .filter(|t| t.family == family)
                .for_each(|t| t.close.cancel())
        });
    }

    /// Puts a new tunnel of `claims`' DMS on the record; beyond `most` live ones of that DMS,
    /// its oldest are told to close.
    fn open(&self, claims: &Claims, at_unix: u64, most: usize) -> TunnelRecord {
        self.0.update(|b| {
            let closing: Vec<&TunnelRecord> = b
                .live
                .values()
                .filter(|t| t.dms_id == claims.sub && !t.close.is_cancelled())
                .collect();
            // BTreeMap order is the order of opening: the oldest come first.
            let over = (closing.len() + 1).saturating_sub(most);
            closing.iter().take(over).for_each(|t| t.close.cancel());
            b.next_id += 1;
            let record = TunnelRecord {
                id: b.next_id,
                dms_id: claims.sub.clone(),
                family: claims.fam.clone(),
                close: CancellationToken::new(),
                freeze: CancellationToken::new(),
            };
            b.live.insert(record.id, record.clone());
            b.acted.insert(record.id, at_unix);
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

    /// The table is in memory: a cloud that restarts has lost every tunnel it held.
    pub(crate) fn forget_all(&self, at_unix: u64) {
        for id in self.0.read(|b| b.live.keys().copied().collect::<Vec<_>>()) {
            self.1.remove(id);
            self.closed(id, at_unix);
        }
    }

    fn closed(&self, id: u64, at_unix: u64) {
        self.0.update(|b| {
            b.acted.remove(&id);
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
    routes().with_state(state)
}

/// The route of `tunnel.dataminer.services`, listed in the published table.
pub(crate) fn routes() -> super::routes::Served {
    super::routes::Served::on(super::Endpoint::Tunnel).route("/", axum::routing::any(upgrade))
}

/// Admits a WebSocket upgrade that carries a valid token, and runs the tunnel on its own task.
async fn upgrade(State(state): State<Arc<CloudState>>, mut request: Request) -> Response {
    let now = state.clock.unix_seconds();
    let claims = match authenticate(&state, request.headers())
        .and_then(|claims| super::bearer::acting_for(&state, claims, request.headers()))
    {
        Ok(claims) => claims,
        Err(_) if state.faults.is_on(Fault::CloudTunnelAcceptsNoToken) => unauthenticated(now),
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
    let most = if state.faults.is_on(Fault::CloudTunnelsUnboundedPerDms) {
        usize::MAX
    } else {
        MOST_PER_DMS
    };
    let record = state.tunnels.open(&claims, now, most);
    let tunnel_state = state.clone();
    state.lifetime.spawn(async move {
        if let Ok(upgraded) = upgrading.await {
            let ws = WebSocketStream::from_raw_socket(
                TokioIo::new(upgraded),
                Role::Server,
                Some(tunnel_config()),
            )
            .await;
            run(&tunnel_state, ws, &record, &claims).await;
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

/// Who an unauthenticated tunnel is taken to be under the `cloud.tunnel-accepts-no-token`
/// fault: nobody, for a day.
fn unauthenticated(now: u64) -> Claims {
    Claims {
        iss: String::new(),
        sub: "unauthenticated".into(),
        aud: String::new(),
        iat: now,
        exp: now + 24 * 3600,
        nbf: None,
        jti: String::new(),
        fam: String::new(),
        org: String::new(),
    }
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
/// it was admitted with expires. The cloud is the HTTP/2 client inside it: its sender is on
/// the record for as long as the tunnel runs.
async fn run<S>(state: &CloudState, ws: WebSocketStream<S>, record: &TunnelRecord, claims: &Claims)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut ticks = state.clock.watch();
    let (io, control) = WsIo::new(ws);
    // A freeze silences the socket at once, not when this task next looks: a ping sent after
    // `Tunnels::freeze` returns is never answered.
    let io = io.silenced_by(record.freeze.clone());
    let Ok((sender, connection)) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        // Large frames: one WebSocket message and one TLS write carry more of a body.
        .max_frame_size(FRAME_SIZE)
        .handshake::<_, axum::body::Body>(TokioIo::new(io))
        .await
    else {
        state.tunnels.acted(record.id, u64::MAX);
        return;
    };
    state
        .tunnels
        .streams()
        .insert(record.id, &record.dms_id, claims.iat, sender);
    tokio::pin!(connection);
    let expires = if state.front_end.tunnel_ends_with_token {
        claims.exp + CLOCK_SKEW.as_secs()
    } else {
        u64::MAX
    };
    let mut next_ping = state.clock.unix_seconds() + KEEPALIVE.as_secs();
    let mut pinging: Option<Pin<Box<dyn Future<Output = bool> + Send>>> = None;

    let reason = loop {
        tokio::select! {
            () = record.close.cancelled() => break "token revoked",
            changed = ticks.changed() => {
                let now = state.clock.unix_seconds();
                if changed.is_err() || now > expires {
                    break "token expired";
                }
                if pinging.is_none() && now >= next_ping {
                    next_ping = now + KEEPALIVE.as_secs();
                    let (control, bound) = (control.clone(), state.ping_timeout);
                    pinging = Some(Box::pin(async move { control.ping_answered(bound).await }));
                }
                if pinging.is_none() {
                    state.tunnels.acted(record.id, now);
                }
            }
            answered = async {
                match pinging.as_mut() {
                    Some(ping) => ping.await,
                    None => std::future::pending().await,
                }
            } => {
                pinging = None;
                if !answered && !state.faults.is_on(Fault::CloudNoDeadAgentDetection) {
                    break "no answer to keepalive";
                }
                state.tunnels.acted(record.id, state.clock.unix_seconds());
            }


            // The agent sent GOAWAY (it is draining the tunnel), closed it, or the socket broke.
            _ = connection.as_mut() => break "",
        }
    };
    // Its keepalive is over: nothing more to wait for on this tunnel.
    state.tunnels.acted(record.id, u64::MAX);
    // Held until the close frame is out: a connection whose last sender is gone ends by itself.
    let sender = state.tunnels.streams().remove(record.id);
    if reason.is_empty() {
        // Streams already under way finish on their own: the HTTP/2 connection runs on until
        // the agent, done with them, closes the socket.
        let _ = tokio::time::timeout(DRAIN_GRACE, control.closed()).await;
    } else {
        let frame = CloseFrame {
            code: CloseCode::Policy,
            reason: reason.into(),
        };
        // The connection must keep running for the close frame to be written.
        let farewell = async {
            tokio::select! {
                () = control.close(Some(frame)) => {}
                _ = connection.as_mut() => {}
            }
        };
        let _ = tokio::time::timeout(CLOSE_GRACE, farewell).await;
    }
    // Whatever the agent does next, the streams in flight fail now rather than wait on it.
    control.kill();
    drop(sender);
    // Dropping the connection fails every stream still in flight on it.
}
