//! What the agent does with a stream the cloud opens in its tunnel: the request goes to the
//! DMS side (the WAF in front of the DataMiner API) over plain HTTP/1.1 on loopback, and the
//! answer streams back as it comes, body chunk by body chunk. HTTP/2 flow control then holds
//! each stream to what its reader takes.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode, Uri, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::viewers::{ShareLogin, Viewers};
use crate::dms::{
    GATEWAY_KEY_HEADER, GatewayKey, SHARE_HEADER, SHARE_SESSION_HEADER, VIEWER_HEADER,
};

/// The body of an answer sent back through the tunnel.
/// The most of a sign-in's or log-out's answer the gateway reads.
const LOGIN_ANSWER_LIMIT: usize = 64 * 1024;

pub(crate) type StreamBody = UnsyncBoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// The most the `agent.no-flow-control` fault buffers of one answer.
const BUFFER_LIMIT: usize = 64 * 1024 * 1024;

/// How one tunnel stream reaches the DMS side.
#[derive(Debug, Clone)]
pub(crate) struct Forwarder {
    pub target: SocketAddr,
    /// The `agent.no-flow-control` fault: whole answers are read before any byte goes back.
    pub buffer_whole: bool,
    /// The `agent.retry-writes` fault: a request the DMS side failed is sent once more.
    pub retry: bool,
    /// How long the DMS side may take to answer a request's head: a WAF that accepts and then
    /// stalls must not hold the stream, and its slot in the tunnel, for ever.
    pub answer_within: std::time::Duration,
    /// The status of a stream whose DMS side cannot be reached (502).
    pub unreachable: StatusCode,
    /// The key the DMS handed its Cloud Gateway: sent on every forwarded request, in place of
    /// whatever the cloud's side put in that header, so the DMA's gateway channel knows it.
    pub gateway_key: Option<GatewayKey>,
    /// The share users' credentials and their viewers' sessions; `None` for a forwarder that
    /// serves no viewer (its streams naming one are refused).
    pub viewers: Option<Arc<Viewers>>,
    /// The agent's record of the streams it received, when it keeps one.
    pub received: Option<super::received::ReceivedStreams>,
}

impl Forwarder {
    /// Puts the Cloud Gateway's key on a request for the DMS side, replacing whatever the
    /// cloud's side put in that header: the gateway channel serves only what carries it.
    pub(super) fn authenticate(&self, headers: &mut http::HeaderMap) -> Result<(), String> {
        headers.remove(GATEWAY_KEY_HEADER);
        if let Some(key) = self.gateway_key {
            let value = key.expose().parse().map_err(|_| "bad key".to_owned())?;
            headers.insert(GATEWAY_KEY_HEADER, value);
        }
        Ok(())
    }

    /// A careful gateway's forwarder to `target`: answers streamed, nothing retried, a DMS side
    /// that cannot be reached a 502, a head that does not come within `answer_within` given up.
    pub(crate) fn careful(target: SocketAddr, answer_within: std::time::Duration) -> Self {
        Self {
            target,
            buffer_whole: false,
            retry: false,
            answer_within,
            unreachable: StatusCode::BAD_GATEWAY,
            gateway_key: None,
            viewers: None,
            received: None,
        }
    }

    /// Forwards `request`; a DMS side that cannot be reached is a 502 (`unreachable`), never
    /// an error on the tunnel.
    pub async fn forward(
        self,
        mut request: Request<Incoming>,
    ) -> Result<Response<StreamBody>, std::convert::Infallible> {
        if let Some(received) = &self.received {
            received.record(&request);
        }
        let attached = match self.attach_viewer(request.headers_mut()).await {
            Ok(attached) => attached,
            Err(refusal) => return Ok(refusal),
        };
        let answered = if self.retry {
            self.exchange_twice(request).await
        } else {
            self.exchange(request).await
        };
        if let Some((share, viewer)) = attached {
            self.done_with(&share, &viewer);
        }
        Ok(match answered {
            Ok(response) => response,
            Err(reason) => {
                let body = if self.unreachable.is_success() {
                    Bytes::new()
                } else {
                    Bytes::from(reason)
                };
                Response::builder()
                    .status(self.unreachable)
                    .body(boxed(Full::new(body)))
                    .unwrap_or_default()
            }
        })
    }

    /// The request of a viewer has had its answer (or none will come): its session carries one
    /// request fewer, and any the share now holds over its bound are ended on the DMA, without
    /// holding up this answer.
    fn done_with(&self, share: &str, viewer: &str) {
        let Some(viewers) = self.viewers.clone() else {
            return;
        };
        let over = viewers.done(share, viewer);
        if over.is_empty() {
            return;
        }
        let this = self.clone();
        let share = share.to_owned();
        tokio::spawn(async move { this.log_out(&viewers, &share, over).await });
    }

    /// A viewer's stream: the cloud named the share and the viewer (trusted here, on a tunnel
    /// stream, and nowhere else); the share user's session for that viewer goes on in their
    /// place, signed in on first use. Whatever came in under the session's name is dropped.
    /// The viewer whose session now carries the request, until `done_with`.
    async fn attach_viewer(
        &self,
        headers: &mut http::HeaderMap,
    ) -> Result<Option<(String, String)>, Response<StreamBody>> {
        headers.remove(SHARE_SESSION_HEADER);
        let share = first_text(headers, SHARE_HEADER);
        let viewer = first_text(headers, VIEWER_HEADER);
        headers.remove(SHARE_HEADER);
        headers.remove(VIEWER_HEADER);
        let (share, viewer) = match (share, viewer) {
            (None, None) => return Ok(None),
            (Some(share), Some(viewer)) => (share, viewer),
            _ => {
                return Err(refused(
                    StatusCode::BAD_REQUEST,
                    "a viewer's stream names its share and its viewer",
                ));
            }
        };
        let Some(viewers) = &self.viewers else {
            return Err(refused(
                StatusCode::FORBIDDEN,
                "this gateway serves no viewer",
            ));
        };
        let session = match viewers.session(&share, &viewer) {
            Some(session) => session,
            None => {
                let Some(login) = viewers.login_of(&share) else {
                    return Err(refused(
                        StatusCode::FORBIDDEN,
                        "no such share at this gateway",
                    ));
                };
                // A new viewer: first the share's sessions idle longest go, so that the DMA
                // holds no more than the bound for this share once this one is open.
                self.log_out(viewers, &share, viewers.make_room(&share, &viewer))
                    .await;
                let opened = sign_in(self.clone(), &login).await.map_err(|why| {
                    refused(
                        self.unreachable,
                        &format!("the share user could not sign in: {why}"),
                    )
                })?;
                let (session, ended) = viewers.keep(&share, &viewer, opened);
                self.log_out(viewers, &share, ended).await;
                session
            }
        };
        let Ok(value) = session.parse() else {
            self.done_with(&share, &viewer);
            return Err(refused(
                StatusCode::BAD_GATEWAY,
                "the DMS answered an unusable session",
            ));
        };
        headers.insert(SHARE_SESSION_HEADER, value);
        Ok(Some((share, viewer)))
    }

    /// Ends share sessions the gateway let go of, on the DMA (`LogOut` through the WAF). One
    /// the DMA did not answer (unreachable at that moment) is kept to be sent again.
    async fn log_out(&self, viewers: &Viewers, share: &str, sessions: Vec<String>) {
        for session in sessions {
            if !self.clone().log_out_answered(&session).await {
                viewers.unended(share, session);
            }
        }
    }

    /// Sends `request`, and once more if the first exchange failed.
    async fn exchange_twice(
        &self,
        request: Request<Incoming>,
    ) -> Result<Response<StreamBody>, String> {
        let (head, body) = request.into_parts();
        let body = Limited::new(body, BUFFER_LIMIT)
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        let copy = || {
            let mut again = Request::new(Full::new(body.clone()));
            *again.method_mut() = head.method.clone();
            *again.uri_mut() = head.uri.clone();
            *again.headers_mut() = head.headers.clone();
            again
        };
        match self.exchange(copy()).await {
            Ok(response) => Ok(response),
            Err(_) => self.exchange(copy()).await,
        }
    }

    async fn exchange<B>(&self, request: Request<B>) -> Result<Response<StreamBody>, String>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (mut head, body) = request.into_parts();
        let path = head
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        head.uri = path.parse::<Uri>().map_err(|e| e.to_string())?;
        head.version = http::Version::HTTP_11;
        let host = self.target.to_string();
        head.headers.insert(
            header::HOST,
            host.parse().map_err(|_| "bad host".to_owned())?,
        );
        self.authenticate(&mut head.headers)?;
        let asking = async {
            let socket = TcpStream::connect(self.target)
                .await
                .map_err(|e| e.to_string())?;
            let _ = socket.set_nodelay(true);
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(socket))
                    .await
                    .map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            sender
                .send_request(Request::from_parts(head, body))
                .await
                .map_err(|e| e.to_string())
        };
        let response = tokio::time::timeout(self.answer_within, asking)
            .await
            .map_err(|_| {
                format!(
                    "the DMS side did not answer within {:?}",
                    self.answer_within
                )
            })??;
        let (parts, body) = response.into_parts();
        let body = if self.buffer_whole {
            let whole = Limited::new(body, BUFFER_LIMIT)
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            boxed(Full::new(whole))
        } else {
            boxed(body)
        };
        Ok(Response::from_parts(parts, body))
    }
}

/// The first value of `name`, when it is text.
/// The gateway's own calls to the DMS side: a share user's sign-in and log-out.
impl Forwarder {
    /// `ConnectApp` with `body` at the DMS side the forwarder reaches: the connection string.
    pub(super) async fn connect_app(self, body: String) -> Result<String, String> {
        self.call("ConnectApp", body).await
    }

    /// `LogOut` of `session`: whether the DMS side answered it. A refusal (4xx: the session or its
    /// share is already gone) is an answer; no answer, or a 5xx (the WAF could not reach the DMA),
    /// is not.
    pub(super) async fn log_out_answered(self, session: &str) -> bool {
        let body = serde_json::json!({ "connection": session }).to_string();
        match self.call("LogOut", body).await {
            Ok(_) => true,
            Err(why) => why.starts_with("HTTP 4"),
        }
    }

    /// `method` with `body` at the DMS side the forwarder reaches, within its answer bound: the
    /// answer's `d` as text.
    async fn call(self, method: &str, body: String) -> Result<String, String> {
        let forwarder = self;
        let mut request = Request::post(format!("/API/v1/Json.asmx/{method}"))
            .header(header::HOST, forwarder.target.to_string())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        forwarder.authenticate(request.headers_mut())?;
        let asking = async move {
            let socket = TcpStream::connect(forwarder.target)
                .await
                .map_err(|e| e.to_string())?;
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(socket))
                    .await
                    .map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            let answer = sender
                .send_request(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = answer.status();
            let bytes = Limited::new(answer.into_body(), LOGIN_ANSWER_LIMIT)
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            Ok::<_, String>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(forwarder.answer_within, asking)
            .await
            .map_err(|_| "the DMS side did not answer in time".to_owned())??;
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        match json.get("d") {
            Some(serde_json::Value::String(text)) if status.is_success() => Ok(text.clone()),
            Some(other) if status.is_success() => Ok(other.to_string()),
            _ => Err(format!("HTTP {}", status.as_u16())),
        }
    }
}

fn first_text(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The gateway's own refusal of a stream, as JSON.
fn refused(status: StatusCode, why: &str) -> Response<StreamBody> {
    let body = serde_json::json!({ "Message": why }).to_string();
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(boxed(Full::new(Bytes::from(body))))
        .unwrap_or_default()
}

/// `ConnectApp` as the share user, through the WAF: the session it opened.
async fn sign_in(forwarder: Forwarder, login: &ShareLogin) -> Result<String, String> {
    let body = serde_json::json!({
        "host": "", "login": login.login, "password": login.password,
        "clientAppName": "Cloud Gateway", "clientAppVersion": "1",
        "clientComputerName": "Cloud Gateway",
    })
    .to_string();
    forwarder.connect_app(body).await
}

fn boxed<B>(body: B) -> StreamBody
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    body.map_err(Into::into).boxed_unsync()
}
