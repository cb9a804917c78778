//! The agent's HTTPS client: one TLS connection per request, dialled through the environment's
//! network so that every byte is on the record; requests are forms, as OAuth's are.

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::NetworkTimeout;
use super::egress::{Egress, EgressError, Route};
use crate::world::net::{Metered, NetError};

/// The largest answer the agent reads from the cloud.
const RESPONSE_LIMIT: usize = 1024 * 1024;
/// How many redirects a policy that follows them follows in a row.
const MAX_REDIRECTS: usize = 5;

/// An HTTPS exchange that did not complete.
#[derive(Debug, thiserror::Error)]
pub enum HttpsError {
    /// The URL is not `https://host/...`.
    #[error("not an https URL: {0}")]
    NotHttps(String),
    /// The destination could not be reached.
    #[error(transparent)]
    Network(#[from] NetError),
    /// The egress policy refused the destination, or the DMZ proxy the tunnel to it.
    #[error(transparent)]
    Egress(#[from] EgressError),
    /// The TLS handshake failed (certificate, version, suites).
    #[error("TLS handshake with {host} failed: {source}")]
    Tls {
        host: String,
        source: std::io::Error,
    },
    /// The HTTP exchange failed after the handshake.
    #[error("HTTP exchange with {host} failed: {reason}")]
    Http { host: String, reason: String },
    /// The cloud did not finish answering in time.
    #[error("no answer from {0} in time")]
    TimedOut(String),
}

/// A JSON answer from the cloud.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: serde_json::Value,
    /// The cloud's time when it answered (its `Date`), in Unix seconds.
    pub date: Option<u64>,
}

impl Answer {
    /// A string member of the JSON answer.
    pub fn text(&self, name: &str) -> Option<String> {
        self.body.get(name)?.as_str().map(str::to_owned)
    }

    /// An integer member of the JSON answer.
    pub fn number(&self, name: &str) -> Option<u64> {
        self.body.get(name)?.as_u64()
    }
}

#[derive(Clone)]
pub(crate) struct Https {
    egress: Egress,
    tls: TlsConnector,
    /// What the client speaks inside a DMZ proxy's tunnel: `tls`, unless the policy trusts
    /// the proxy with the certificate check.
    tls_proxied: TlsConnector,
    timeout: NetworkTimeout,
}

impl std::fmt::Debug for Https {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Https").finish_non_exhaustive()
    }
}

impl Https {
    pub fn new(egress: Egress, tls: Arc<rustls::ClientConfig>, timeout: NetworkTimeout) -> Self {
        let tls_proxied = if egress.policy.proxied_tls_trusts_the_proxy {
            TlsConnector::from(super::tls::accepting_any_certificate(&tls))
        } else {
            TlsConnector::from(tls.clone())
        };
        Self {
            egress,
            tls: TlsConnector::from(tls),
            tls_proxied,
            timeout,
        }
    }

    /// POSTs `params` form-encoded (as OAuth clients send them) to `url` and reads the JSON
    /// answer (`null` when it is not JSON), giving up after the network timeout: a cloud that
    /// accepts and never answers must not freeze the gateway.
    pub async fn post_form(
        &self,
        url: &str,
        params: &[(&str, &str)],
    ) -> Result<Answer, HttpsError> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        tokio::time::timeout(self.timeout.get(), self.exchange(url, None, body))
            .await
            .map_err(|_| HttpsError::TimedOut(url.to_owned()))?
    }

    /// As [`post_form`](Self::post_form), as the holder of the bearer `token`.
    pub async fn post_form_as(
        &self,
        url: &str,
        token: &str,
        params: Vec<(String, String)>,
    ) -> Result<Answer, HttpsError> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        tokio::time::timeout(
            self.timeout.get(),
            self.exchange(url, Some(format!("Bearer {token}")), body),
        )
        .await
        .map_err(|_| HttpsError::TimedOut(url.to_owned()))?
    }

    /// POSTs the form `body` to `url` and reads the JSON answer (`null` when it is not JSON).
    /// A redirect is refused, unless the policy follows redirects.
    async fn exchange(
        &self,
        url: &str,
        authorization: Option<String>,
        body: String,
    ) -> Result<Answer, HttpsError> {
        let mut target = Target::parse(url)?;
        let mut socket = self.egress.open(&target.host, target.port).await?;
        let outgoing = Outgoing {
            authorization: authorization.as_deref(),
            body: &body,
        };
        for _ in 0..MAX_REDIRECTS {
            let (stream, route) = socket;
            let reply = self.send(stream, route, &target, &outgoing).await?;
            let Some(location) = reply.location.filter(|_| reply.status.is_redirection()) else {
                let body = serde_json::from_slice(&reply.bytes).unwrap_or(serde_json::Value::Null);
                return Ok(Answer {
                    status: reply.status,
                    body,
                    date: reply.date,
                });
            };
            let next = match Target::parse(&location) {
                Ok(next) if self.egress.policy.follow_redirects => next,
                Ok(_) => {
                    return Err(EgressError::Redirect {
                        from: url.to_owned(),
                        to: location,
                    }
                    .into());
                }
                Err(not_https) => match Target::plaintext(&location) {
                    Some(next)
                        if self.egress.policy.downgrade_on_same_host
                            && next.host == target.host =>
                    {
                        next
                    }
                    _ => return Err(not_https),
                },
            };
            let followed = self.egress.open_followed(&next.host, next.port).await?;
            socket = (followed, Route::Direct);
            target = next;
        }
        Err(HttpsError::Http {
            host: target.host,
            reason: "too many redirects".into(),
        })
    }

    /// One request on a fresh connection: TLS inside, unless the policy trusts a proxy's
    /// tunnel to protect it.
    async fn send(
        &self,
        socket: Metered<TcpStream>,
        route: Route,
        target: &Target,
        outgoing: &Outgoing<'_>,
    ) -> Result<Reply, HttpsError> {
        let host = target.host.clone();
        let tls_error = |source| HttpsError::Tls {
            host: host.clone(),
            source,
        };
        if target.plain || (route == Route::Proxied && !self.egress.policy.tls_inside_proxy) {
            return request(socket, target, outgoing).await;
        }
        let tls = match route {
            Route::Proxied => &self.tls_proxied,
            Route::Direct => &self.tls,
        };
        let name = ServerName::try_from(host.clone())
            .map_err(|e| tls_error(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?;
        let stream = tls.connect(name, socket).await.map_err(tls_error)?;
        let stream = self.egress.network().egress().plaintext(&host, stream);
        request(stream, target, outgoing).await
    }
}

/// Where a URL points.
struct Target {
    host: String,
    port: u16,
    path: String,
    /// An http:// target (only a same-host downgrade the policy follows makes one).
    plain: bool,
}

impl Target {
    /// An `http://` URL's target, which only `downgrade_on_same_host` ever dials.
    fn plaintext(url: &str) -> Option<Self> {
        let uri: Uri = url.parse().ok()?;
        let (Some("http"), Some(host)) = (uri.scheme_str(), uri.host()) else {
            return None;
        };
        Some(Self {
            host: host.to_owned(),
            port: uri.port_u16().unwrap_or(80),
            path: uri.path_and_query().map_or("/", |p| p.as_str()).to_owned(),
            plain: true,
        })
    }

    fn parse(url: &str) -> Result<Self, HttpsError> {
        let uri: Uri = url
            .parse()
            .map_err(|_| HttpsError::NotHttps(url.to_owned()))?;
        let (Some("https"), Some(host)) = (uri.scheme_str(), uri.host()) else {
            return Err(HttpsError::NotHttps(url.to_owned()));
        };
        Ok(Self {
            host: host.to_owned(),
            port: uri.port_u16().unwrap_or(443),
            path: uri.path_and_query().map_or("/", |p| p.as_str()).to_owned(),
            plain: false,
        })
    }
}

/// What one request carries, the same on every hop of a redirect.
struct Outgoing<'a> {
    authorization: Option<&'a str>,
    body: &'a str,
}

/// One whole answer, before it is read as JSON.
/// How long closing a finished exchange's connection may take.
const CLOSE_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

struct Reply {
    status: StatusCode,
    location: Option<String>,
    /// The cloud's `Date`, in Unix seconds.
    date: Option<u64>,
    bytes: Bytes,
}

/// POSTs the form over `stream` and reads the whole answer.
async fn request<S>(
    stream: S,
    target: &Target,
    outgoing: &Outgoing<'_>,
) -> Result<Reply, HttpsError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let http_error = |reason: String| HttpsError::Http {
        host: target.host.clone(),
        reason,
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| http_error(e.to_string()))?;
    let connection = tokio::spawn(connection);
    let mut request = Request::post(target.path.as_str());
    if let Some(authorization) = outgoing.authorization {
        request = request.header(header::AUTHORIZATION, authorization);
    }
    let request = request
        .header(header::HOST, target.host.as_str())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::USER_AGENT, "DataMiner-CloudGateway/conform")
        .body(Full::new(Bytes::from(outgoing.body.to_owned())))
        .map_err(|e| http_error(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| http_error(e.to_string()))?;
    let status = response.status();
    let headers = response.headers();
    let location = headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let date = headers
        .get(header::DATE)
        .and_then(|v| httpdate::parse_http_date(v.to_str().ok()?).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    let bytes = Limited::new(response.into_body(), RESPONSE_LIMIT)
        .collect()
        .await
        .map_err(|e| http_error(e.to_string()))?
        .to_bytes();
    // One request per connection: it is closed (TLS close_notify sent) before the answer is
    // acted on, so what the DMS reports done leaves no byte of it on the wire afterwards.
    drop(sender);
    let _ = tokio::time::timeout(CLOSE_WITHIN, connection).await;
    Ok(Reply {
        status,
        location,
        date,
        bytes,
    })
}
