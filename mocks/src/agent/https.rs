//! The agent's HTTPS client: one TLS connection per request, dialled through the environment's
//! network so that every byte is on the record; requests are forms, as OAuth's are.

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use super::NetworkTimeout;
use crate::world::net::{NetError, Network};

/// The largest answer the agent reads from the cloud.
const RESPONSE_LIMIT: usize = 1024 * 1024;

/// An HTTPS exchange that did not complete.
#[derive(Debug, thiserror::Error)]
pub enum HttpsError {
    /// The URL is not `https://host/...`.
    #[error("not an https URL: {0}")]
    NotHttps(String),
    /// The destination could not be reached.
    #[error(transparent)]
    Network(#[from] NetError),
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
    network: Network,
    tls: TlsConnector,
    timeout: NetworkTimeout,
}

impl std::fmt::Debug for Https {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Https").finish_non_exhaustive()
    }
}

impl Https {
    pub fn new(network: Network, tls: Arc<rustls::ClientConfig>, timeout: NetworkTimeout) -> Self {
        Self {
            network,
            tls: TlsConnector::from(tls),
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
    async fn exchange(
        &self,
        url: &str,
        authorization: Option<String>,
        body: String,
    ) -> Result<Answer, HttpsError> {
        let uri: Uri = url
            .parse()
            .map_err(|_| HttpsError::NotHttps(url.to_owned()))?;
        let (Some("https"), Some(host)) = (uri.scheme_str(), uri.host()) else {
            return Err(HttpsError::NotHttps(url.to_owned()));
        };
        let host = host.to_owned();
        let port = uri.port_u16().unwrap_or(443);
        let tls_error = |source| HttpsError::Tls {
            host: host.clone(),
            source,
        };
        let http_error = |reason: String| HttpsError::Http {
            host: host.clone(),
            reason,
        };

        let socket = self.network.dial(&host, port).await?;
        let name = ServerName::try_from(host.clone())
            .map_err(|e| tls_error(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?;
        let stream = self.tls.connect(name, socket).await.map_err(tls_error)?;
        let stream = self.network.egress().plaintext(&host, stream);
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| http_error(e.to_string()))?;
        tokio::spawn(connection);

        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let mut request = Request::post(path);
        if let Some(authorization) = authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        let request = request
            .header(header::HOST, host.as_str())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::USER_AGENT, "DataMiner-CloudGateway/conform")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| http_error(e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| http_error(e.to_string()))?;
        let status = response.status();
        let date = response
            .headers()
            .get(header::DATE)
            .and_then(|v| httpdate::parse_http_date(v.to_str().ok()?).ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs());
        let bytes = Limited::new(response.into_body(), RESPONSE_LIMIT)
            .collect()
            .await
            .map_err(|e| http_error(e.to_string()))?
            .to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        Ok(Answer { status, body, date })
    }
}
