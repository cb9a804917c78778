//! The cloud's side of the streams inside the tunnels: on every admitted tunnel the cloud is
//! the HTTP/2 client, and a recipient's request to a DMS becomes one stream on one of that
//! DMS's live tunnels. A tunnel that closes fails the streams in flight on it with an error.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::client::conn::http2::SendRequest;

/// A request could not be carried through a tunnel, or its answer broke off.
#[derive(Debug, thiserror::Error)]
pub enum TunnelSendError {
    /// The DMS has no live tunnel to carry the request.
    #[error("no live tunnel to {0}")]
    NoTunnel(String),
    /// The request does not name a path the DMS side can be asked for.
    #[error("not a request for the DMS: {0}")]
    BadRequest(String),
    /// The stream failed: the tunnel closed, the agent reset it, or the protocol broke.
    #[error("the tunnel stream failed: {}", with_causes(.0))]
    Stream(#[from] hyper::Error),
}

/// An error followed by what caused it, down the chain: hyper's own message ("error reading a
/// body from connection") says where a stream failed, its causes say why.
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// A live tunnel's way in.
#[derive(Debug)]
struct Entry {
    dms_id: String,
    /// When the token the tunnel was admitted with was issued: after a renewal the agent's
    /// tunnels on the old token are draining, and new streams go to those on the new one.
    token_iat: u64,
    sender: SendRequest<Body>,
}

#[derive(Debug, Default)]
struct Senders {
    live: BTreeMap<u64, Entry>,
    /// Streams each tunnel carried, by tunnel ID, closed ones included.
    carried: BTreeMap<u64, u64>,
    /// Turns through a DMS's tunnels, so streams spread over them.
    turn: usize,
}

/// How long a request waits for a tunnel's HTTP/2 connection: a tunnel is on the record from
/// its 101 on, and its HTTP/2 handshake follows a moment later.
const SETUP_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The HTTP/2 senders of the live tunnels.
#[derive(Debug, Clone, Default)]
pub(crate) struct Streams(Arc<Mutex<Senders>>, Arc<tokio::sync::Notify>);

impl Streams {
    pub fn insert(&self, id: u64, dms_id: &str, token_iat: u64, sender: SendRequest<Body>) {
        let entry = Entry {
            dms_id: dms_id.to_owned(),
            token_iat,
            sender,
        };
        self.lock().live.insert(id, entry);
        self.1.notify_waiters();
    }

    /// Waits until `dms_id` has `want` tunnels that take streams; false when `bound` passed
    /// first.
    pub async fn wait_ready(&self, dms_id: &str, want: usize, bound: std::time::Duration) -> bool {
        let ready = || {
            let senders = self.lock();
            let open = senders
                .live
                .values()
                .filter(|e| e.dms_id == dms_id && !e.sender.is_closed());
            (open.count() >= want).then_some(())
        };
        self.wait_for(bound, ready).await.is_some()
    }

    /// Waits until `found` finds something, looking again whenever a tunnel's HTTP/2
    /// connection comes up; `None` when `bound` passed first.
    async fn wait_for<R>(
        &self,
        bound: std::time::Duration,
        found: impl Fn() -> Option<R>,
    ) -> Option<R> {
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            let added = self.1.notified();
            tokio::pin!(added);
            added.as_mut().enable();
            if let Some(found) = found() {
                return Some(found);
            }
            tokio::time::timeout_at(deadline, added).await.ok()?;
        }
    }

    /// How many streams each tunnel carried, by tunnel ID.
    pub fn carried(&self) -> BTreeMap<u64, u64> {
        self.lock().carried.clone()
    }

    /// A sender for `dms_id`, waiting briefly for a tunnel whose HTTP/2 handshake is under way.
    async fn wait_pick(&self, dms_id: &str) -> Option<(u64, SendRequest<Body>)> {
        self.wait_for(SETUP_WAIT, || self.pick(dms_id)).await
    }

    /// Takes tunnel `id` off the record: no new stream goes to it. The sender is handed back:
    /// the connection runs for as long as it is held.
    pub fn remove(&self, id: u64) -> Option<SendRequest<Body>> {
        self.lock().live.remove(&id).map(|entry| entry.sender)
    }

    /// The next in turn of `dms_id`'s live tunnels on its newest token that still take
    /// requests.
    fn pick(&self, dms_id: &str) -> Option<(u64, SendRequest<Body>)> {
        let mut senders = self.lock();
        let open = |e: &&Entry| e.dms_id == dms_id && !e.sender.is_closed();
        let newest = senders
            .live
            .values()
            .filter(open)
            .map(|e| e.token_iat)
            .max()?;
        let candidates: Vec<(u64, SendRequest<Body>)> = senders
            .live
            .iter()
            .filter(|(_, e)| open(e) && e.token_iat == newest)
            .map(|(id, e)| (*id, e.sender.clone()))
            .collect();
        senders.turn = senders.turn.wrapping_add(1);
        let turn = senders.turn % candidates.len().max(1);
        let (id, sender) = candidates.into_iter().nth(turn)?;
        *senders.carried.entry(id).or_default() += 1;
        Some((id, sender))
    }

    /// Sends `request` as a new stream through a live tunnel of `dms_id`; returns the answer's
    /// head once it arrives, its body streaming.
    pub async fn send(
        &self,
        dms_id: &str,
        request: Request<Body>,
    ) -> Result<Response<Incoming>, TunnelSendError> {
        let (_, mut sender) = self
            .wait_pick(dms_id)
            .await
            .ok_or_else(|| TunnelSendError::NoTunnel(dms_id.to_owned()))?;
        let (mut head, body) = request.into_parts();
        // HTTP/2 carries the scheme and authority as pseudo-headers: the DMS, by name.
        let path = head.uri.path_and_query().map_or("/", |p| p.as_str());
        head.uri = format!("http://{dms_id}{path}")
            .parse::<Uri>()
            .map_err(|e| TunnelSendError::BadRequest(e.to_string()))?;
        head.version = http::Version::HTTP_2;
        sender.ready().await?;
        Ok(sender.send_request(Request::from_parts(head, body)).await?)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Senders> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The next chunk of an answer's body: `None` at its end, an error when the stream failed.
pub async fn next_chunk(body: &mut Incoming) -> Result<Option<Bytes>, TunnelSendError> {
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            return Ok(Some(data));
        }
    }
    Ok(None)
}

/// A GET of `path` on the DMS side, ready for [`Cloud::send_through_tunnel`](super::Cloud).
pub fn get(path: &str) -> Result<Request<Body>, TunnelSendError> {
    Request::get(path)
        .body(Body::empty())
        .map_err(|e| TunnelSendError::BadRequest(e.to_string()))
}

/// An answer that came back through a tunnel: its head, and its body still streaming.
pub type TunnelResponse = Response<Incoming>;
/// The streaming body of a [`TunnelResponse`]; read it with [`next_chunk`].
pub type TunnelBody = Incoming;

/// A POST of `body` as JSON to `path` on the DMS side: a DataMiner API call.
pub fn post_json(path: &str, body: &serde_json::Value) -> Result<Request<Body>, TunnelSendError> {
    Request::post(path)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .map_err(|e| TunnelSendError::BadRequest(e.to_string()))
}
