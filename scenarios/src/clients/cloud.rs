use std::sync::{Arc, Mutex};

use mocks::Environment;
use mocks::cloud::Endpoint;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::Failure;

/// An HTTP answer from the cloud.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub set_cookie: Option<String>,
}

/// Anyone reaching dataminer.services from outside the DMS: it trusts the environment's CA and
/// finds the published names on loopback, like a browser with a hosts-file entry.
#[derive(Debug, Clone)]
pub struct CloudClient {
    http: reqwest::Client,
    urls: Vec<(Endpoint, String)>,
    published: Vec<(&'static str, std::net::SocketAddr)>,
    ca: rustls::pki_types::CertificateDer<'static>,
    /// Every answer this client received, head and body, as text: what the person behind it saw.
    seen: Arc<Mutex<Vec<String>>>,
}

impl CloudClient {
    pub fn new(env: &Environment) -> Result<Self, Failure> {
        let ca = env.ca_der();
        let certificate = reqwest::Certificate::from_der(&ca)
            .map_err(|e| Failure::Harness(format!("CA unusable by reqwest: {e}")))?;
        let mut builder = reqwest::Client::builder().tls_certs_only([certificate]);
        let published = env.published();
        for (name, addr) in &published {
            builder = builder.resolve(name, *addr);
        }
        let http = builder
            .build()
            .map_err(|e| Failure::Harness(format!("cannot build the cloud client: {e}")))?;
        let urls = Endpoint::ALL
            .iter()
            .map(|e| (*e, env.cloud_url(*e)))
            .collect();
        Ok(Self {
            http,
            urls,
            published,
            ca,
            seen: Arc::default(),
        })
    }

    fn url(&self, endpoint: Endpoint, path: &str) -> String {
        let base = self
            .urls
            .iter()
            .find(|(e, _)| *e == endpoint)
            .map(|(_, u)| u.as_str())
            .unwrap_or_default();
        format!("{base}{}", path.trim_start_matches('/'))
    }

    /// POSTs JSON, with an optional session cookie.
    pub async fn post(
        &self,
        endpoint: Endpoint,
        path: &str,
        body: &Value,
        cookie: Option<&str>,
    ) -> Result<Reply, Failure> {
        let mut request = self.http.post(self.url(endpoint, path)).json(body);
        if let Some(cookie) = cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        self.reply(request.send().await, path).await
    }

    /// GETs with a bearer token.
    pub async fn get_with_token(
        &self,
        endpoint: Endpoint,
        path: &str,
        token: &str,
    ) -> Result<Reply, Failure> {
        let request = self.http.get(self.url(endpoint, path)).bearer_auth(token);
        self.reply(request.send().await, path).await
    }

    /// Attempts a tunnel upgrade with `token`; returns the HTTP status of the answer
    /// (101 when the cloud admitted it).
    pub async fn try_tunnel(&self, token: &str) -> Result<u16, Failure> {
        let harness = |e: String| Failure::Harness(format!("tunnel attempt: {e}"));
        let url = self.url(Endpoint::Tunnel, "");
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| harness(e.to_string()))?;
        let bearer = format!("Bearer {token}")
            .parse()
            .map_err(|_| harness("token is not a header value".into()))?;
        request.headers_mut().insert("authorization", bearer);
        let socket = tokio::net::TcpStream::connect(self.addr(Endpoint::Tunnel)?)
            .await
            .map_err(|e| harness(e.to_string()))?;
        let tls = rustls::ClientConfig::builder()
            .with_root_certificates(self.roots()?)
            .with_no_client_auth();
        let connector = tokio_tungstenite::Connector::Rustls(Arc::new(tls));
        match tokio_tungstenite::client_async_tls_with_config(
            request,
            socket,
            None,
            Some(connector),
        )
        .await
        {
            Ok((mut ws, response)) => {
                let _ = ws.close(None).await;
                Ok(response.status().as_u16())
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Ok(response.status().as_u16())
            }
            Err(other) => Err(harness(other.to_string())),
        }
    }

    /// Completes a TLS 1.2 handshake with `endpoint`, trusting only the environment's CA;
    /// returns the negotiated version and suite.
    pub async fn complete_tls12_handshake(
        &self,
        endpoint: Endpoint,
    ) -> Result<(String, String), Failure> {
        let host = endpoint.host();
        let refused = |e: String| {
            Failure::precondition(format!("a TLS 1.2 handshake with {host}"), "completed", e)
        };
        let config =
            rustls::ClientConfig::builder_with_protocol_versions(&[&rustls::version::TLS12])
                .with_root_certificates(self.roots()?)
                .with_no_client_auth();
        let socket = tokio::net::TcpStream::connect(self.addr(endpoint)?)
            .await
            .map_err(|e| Failure::Harness(format!("cannot reach {host}: {e}")))?;
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| Failure::Harness(e.to_string()))?;
        let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, socket)
            .await
            .map_err(|e| refused(e.to_string()))?;
        let (_, session) = stream.get_ref();
        let version = session
            .protocol_version()
            .map(|v| format!("{v:?}"))
            .unwrap_or_default();
        let suite = session
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default();
        Ok((version, suite))
    }

    fn roots(&self) -> Result<rustls::RootCertStore, Failure> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.ca.clone())
            .map_err(|e| Failure::Harness(format!("CA unusable: {e}")))?;
        Ok(roots)
    }

    fn addr(&self, endpoint: Endpoint) -> Result<std::net::SocketAddr, Failure> {
        self.published
            .iter()
            .find(|(n, _)| *n == endpoint.host())
            .map(|(_, a)| *a)
            .ok_or_else(|| Failure::Harness(format!("{} is not published", endpoint.host())))
    }

    /// Everything this client was answered, head and body.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    async fn reply(
        &self,
        sent: reqwest::Result<reqwest::Response>,
        path: &str,
    ) -> Result<Reply, Failure> {
        let response =
            sent.map_err(|e| Failure::Harness(format!("cloud unreachable for {path}: {e}")))?;
        let status = response.status().as_u16();
        let set_cookie = response
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        let head = format!("{:?} {:?}", response.status(), response.headers());
        let text = response.text().await.unwrap_or_default();
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(format!("{head}\n{text}"));
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Reply {
            status,
            body,
            set_cookie,
        })
    }
}
