use std::sync::{Arc, Mutex};

use mocks::Environment;
use mocks::cloud::Endpoint;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::Failure;

/// A tunnel the cloud admitted, held open by a scenario.
pub type HeldTunnel =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// An HTTP answer from the cloud: the last of the redirect chain, when there was one.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reply {
    pub status: u16,
    /// The body as JSON (`null` when it is not JSON).
    pub body: Value,
    /// The body as it came (a page's HTML, say).
    pub text: String,
    /// Every header of the last answer.
    pub headers: Vec<(String, String)>,
    /// The first cookie a response of the chain set, as `name=value`.
    pub set_cookie: Option<String>,
}

impl Reply {
    /// A header of the last answer.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A string member of a JSON answer.
    pub fn field(&self, name: &str) -> Option<String> {
        self.body.get(name)?.as_str().map(str::to_owned)
    }

    /// The OAuth `error` of the answer, if it is one.
    pub fn error(&self) -> Option<String> {
        self.field("error")
    }

    fn of(hop: &Hop, set_cookie: Option<String>) -> Self {
        Self {
            status: hop.status,
            body: serde_json::from_str(&hop.body).unwrap_or(Value::Null),
            text: hop.body.clone(),
            headers: hop.headers.clone(),
            set_cookie,
        }
    }
}

/// What a request carries.
#[derive(Debug, Clone)]
enum Payload {
    Json(Value),
    /// `application/x-www-form-urlencoded`, already encoded.
    Form(String),
}

/// `params` as an `application/x-www-form-urlencoded` body.
pub fn form_body(params: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// One response a client received, as it arrived: the request it answered, the status, every
/// header (`Location` and `Set-Cookie` included) and the body.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Hop {
    pub method: String,
    pub url: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Hop {
    /// Everything of the hop as one text: what a person behind the browser could have read.
    pub fn text(&self) -> String {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}"))
            .collect();
        format!(
            "{} {}\n{}\n{}\n\n{}",
            self.method,
            self.url,
            self.status,
            headers.join("\n"),
            self.body
        )
    }
}

/// The request header a tunnel upgrade names its DMS in (the cloud's wire contract, written
/// here as the scenario's own).
const DMS_HEADER: &str = "x-dataminer-dms";

/// As many redirects as a browser follows before it gives up.
const MAX_REDIRECTS: usize = 10;

/// Anyone reaching dataminer.services from outside the DMS: it trusts the environment's CA and
/// finds the published names on loopback, like a browser with a hosts-file entry.
#[derive(Debug, Clone)]
pub struct CloudClient {
    http: reqwest::Client,
    urls: Vec<(Endpoint, String)>,
    published: Vec<(&'static str, std::net::SocketAddr)>,
    ca: rustls::pki_types::CertificateDer<'static>,
    /// The world's clock, as the client's own watch reads it: what a DMS played by a scenario
    /// dates its assertions with.
    clock: mocks::world::Clock,
    /// The organisation the environment's DMSs join: where a DMS played by a scenario asks to
    /// be connected unless it says otherwise.
    home_organization: String,
    /// Every response this client received, each hop of a redirect chain on its own: what
    /// the person behind it was sent.
    seen: Arc<Mutex<Vec<Hop>>>,
}

impl CloudClient {
    pub fn new(env: &Environment) -> Result<Self, Failure> {
        Self::from_address(env, None)
    }

    /// A client whose connections leave from `local` (another loopback address, such as
    /// 127.0.0.2): a second machine, as the cloud sees it.
    pub fn from_address(
        env: &Environment,
        local: Option<std::net::IpAddr>,
    ) -> Result<Self, Failure> {
        let ca = env.ca_der();
        let certificate = reqwest::Certificate::from_der(&ca)
            .map_err(|e| Failure::Harness(format!("CA unusable by reqwest: {e}")))?;
        // Redirects are followed by hand, so every hop is on record, as a browser's network log
        // would have it.
        let mut builder = super::http()
            .tls_certs_only([certificate])
            .redirect(reqwest::redirect::Policy::none())
            .local_address(local);
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
            clock: env.clock().clone(),
            home_organization: env.accounts().cloud_admin.organization.clone(),
            seen: Arc::default(),
        })
    }

    /// The simulated time now.
    pub fn now(&self) -> u64 {
        self.clock.unix_seconds()
    }

    pub fn home_organization(&self) -> &str {
        &self.home_organization
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

    /// POSTs JSON, with an optional session cookie: redirects are followed as `send` says.
    pub async fn post(
        &self,
        endpoint: Endpoint,
        path: &str,
        body: &Value,
        cookie: Option<&str>,
    ) -> Result<Reply, Failure> {
        let payload = Payload::Json(body.clone());
        self.send(reqwest::Method::POST, endpoint, path, Some(payload), cookie)
            .await
    }

    /// POSTs `params` form-encoded, as a browser submits a form and an OAuth client sends its
    /// requests.
    pub async fn post_form(
        &self,
        endpoint: Endpoint,
        path: &str,
        params: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Result<Reply, Failure> {
        self.post_encoded(endpoint, path, form_body(params), cookie)
            .await
    }

    /// POSTs `params` form-encoded as a browser's script on a page of `origin` sends it, with
    /// `cookie` when the browser holds one for the host (`fetch(..., {credentials:
    /// 'include'})`): `Origin` and `Sec-Fetch-Site` (`same-origin` for the host's own page,
    /// `same-site` for another dataminer.services host, `cross-site` for any other) as
    /// Chromium sets them. One hop.
    pub async fn post_form_from_page(
        &self,
        endpoint: Endpoint,
        path: &str,
        params: &[(&str, &str)],
        cookie: Option<&str>,
        origin: &str,
    ) -> Result<Reply, Failure> {
        let own = self.url(endpoint, "");
        let site = if origin.trim_end_matches('/') == own.trim_end_matches('/') {
            "same-origin"
        } else if origin.contains(".dataminer.services") {
            "same-site"
        } else {
            "cross-site"
        };
        let url = reqwest::Url::parse(&self.url(endpoint, path))
            .map_err(|e| Failure::Harness(format!("bad cloud URL for {path}: {e}")))?;
        let mut request = self
            .http
            .post(url.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ORIGIN, origin.trim_end_matches('/'))
            .header("sec-fetch-site", site)
            .header("sec-fetch-mode", "no-cors")
            .body(form_body(params));
        if let Some(cookie) = cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        let hop = self
            .hop(&reqwest::Method::POST, &url, request.send().await, path)
            .await?;
        Ok(Reply::of(&hop, first_cookie(&hop)))
    }

    /// POSTs a form body exactly as given: a request recorded elsewhere, replayed.
    pub async fn post_encoded(
        &self,
        endpoint: Endpoint,
        path: &str,
        body: String,
        cookie: Option<&str>,
    ) -> Result<Reply, Failure> {
        let payload = Payload::Form(body);
        self.send(reqwest::Method::POST, endpoint, path, Some(payload), cookie)
            .await
    }

    /// GETs a page as a browser opens it, with an optional session cookie.
    pub async fn open(
        &self,
        endpoint: Endpoint,
        path: &str,
        cookie: Option<&str>,
    ) -> Result<Reply, Failure> {
        self.send(reqwest::Method::GET, endpoint, path, None, cookie)
            .await
    }

    /// Sends a request as a browser does: redirects are followed (303/302/301 as a GET,
    /// 307/308 as the same request), the cookie sent again to the same host, every hop
    /// recorded.
    async fn send(
        &self,
        method: reqwest::Method,
        endpoint: Endpoint,
        path: &str,
        payload: Option<Payload>,
        cookie: Option<&str>,
    ) -> Result<Reply, Failure> {
        let mut url = reqwest::Url::parse(&self.url(endpoint, path))
            .map_err(|e| Failure::Harness(format!("bad cloud URL for {path}: {e}")))?;
        let mut method = method;
        let mut payload = payload;
        let mut set_cookie = None;
        for _ in 0..=MAX_REDIRECTS {
            let mut request = self.http.request(method.clone(), url.clone());
            match &payload {
                Some(Payload::Json(body)) => request = request.json(body),
                Some(Payload::Form(body)) => {
                    request = request
                        .header(
                            reqwest::header::CONTENT_TYPE,
                            "application/x-www-form-urlencoded",
                        )
                        .body(body.clone());
                }
                None => {}
            }
            if let Some(cookie) = cookie {
                request = request.header(reqwest::header::COOKIE, cookie);
            }
            let hop = self.hop(&method, &url, request.send().await, path).await?;
            set_cookie = set_cookie.or_else(|| first_cookie(&hop));
            let location = header(&hop, "location");
            match (hop.status, location) {
                (301..=303, Some(location)) => {
                    url = next_url(&url, &location, path)?;
                    method = reqwest::Method::GET;
                    payload = None;
                }
                (307 | 308, Some(location)) => url = next_url(&url, &location, path)?,
                _ => return Ok(Reply::of(&hop, set_cookie)),
            }
        }
        Err(Failure::precondition(
            format!("{method} {path}"),
            format!("an answer within {MAX_REDIRECTS} redirects"),
            self.seen().last().map(|h| h.url.clone()),
        ))
    }

    /// GETs with a bearer token, as an API client does: a redirect is not followed.
    pub async fn get_with_token(
        &self,
        endpoint: Endpoint,
        path: &str,
        token: &str,
    ) -> Result<Reply, Failure> {
        let url = reqwest::Url::parse(&self.url(endpoint, path))
            .map_err(|e| Failure::Harness(format!("bad cloud URL for {path}: {e}")))?;
        let request = self.http.get(url.clone()).bearer_auth(token);
        let hop = self
            .hop(&reqwest::Method::GET, &url, request.send().await, path)
            .await?;
        Ok(Reply::of(&hop, first_cookie(&hop)))
    }

    /// GETs with `authorization` as the whole `Authorization` header, byte for byte (another
    /// scheme, another casing): a redirect is not followed.
    pub async fn get_with_authorization(
        &self,
        endpoint: Endpoint,
        path: &str,
        authorization: &str,
    ) -> Result<Reply, Failure> {
        let url = reqwest::Url::parse(&self.url(endpoint, path))
            .map_err(|e| Failure::Harness(format!("bad cloud URL for {path}: {e}")))?;
        let request = self
            .http
            .get(url.clone())
            .header(reqwest::header::AUTHORIZATION, authorization);
        let hop = self
            .hop(&reqwest::Method::GET, &url, request.send().await, path)
            .await?;
        Ok(Reply::of(&hop, first_cookie(&hop)))
    }

    /// POSTs `params` form-encoded with a bearer token, as a DMS calls the cloud's API: a
    /// redirect is not followed.
    pub async fn post_form_with_token(
        &self,
        endpoint: Endpoint,
        path: &str,
        params: &[(&str, &str)],
        token: &str,
    ) -> Result<Reply, Failure> {
        let url = reqwest::Url::parse(&self.url(endpoint, path))
            .map_err(|e| Failure::Harness(format!("bad cloud URL for {path}: {e}")))?;
        let request = self
            .http
            .post(url.clone())
            .bearer_auth(token)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form_body(params));
        let hop = self
            .hop(&reqwest::Method::POST, &url, request.send().await, path)
            .await?;
        Ok(Reply::of(&hop, first_cookie(&hop)))
    }

    /// Sends `method path` with whatever credential is given (a bearer token, a cookie, or
    /// neither) and an empty form body on a POST: a redirect is not followed. What a scanner
    /// sends to every route.
    pub async fn request_with(
        &self,
        method: &str,
        endpoint: Endpoint,
        path: &str,
        bearer: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<Reply, Failure> {
        // The tunnel endpoint is HTTPS underneath its wss:// URL: a plain request goes there too.
        let url = self.url(endpoint, path).replacen("wss://", "https://", 1);
        let url = reqwest::Url::parse(&url)
            .map_err(|e| Failure::Harness(format!("bad cloud URL for {path}: {e}")))?;
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| Failure::Harness(format!("bad method {method}: {e}")))?;
        let mut request = self.http.request(method.clone(), url.clone());
        if method == reqwest::Method::POST {
            request = request
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(String::new());
        }
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(cookie) = cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        let hop = self.hop(&method, &url, request.send().await, path).await?;
        Ok(Reply::of(&hop, first_cookie(&hop)))
    }

    /// Attempts a tunnel upgrade with `token`; returns the HTTP status of the answer
    /// (101 when the cloud admitted it).
    pub async fn try_tunnel(&self, token: &str) -> Result<u16, Failure> {
        self.upgrade(token, None).await
    }

    /// Attempts a tunnel upgrade with `token` that names DMS `dms_id` as the one the tunnel is
    /// for; returns the HTTP status of the answer.
    pub async fn try_tunnel_as(&self, token: &str, dms_id: &str) -> Result<u16, Failure> {
        self.upgrade(token, Some(dms_id)).await
    }

    async fn upgrade(&self, token: &str, dms_id: Option<&str>) -> Result<u16, Failure> {
        match self.open_tunnel(token, dms_id).await? {
            Ok(mut ws) => {
                let _ = ws.close(None).await;
                // The handshake completes only on a 101 answer (RFC 6455 §4.1).
                Ok(101)
            }
            Err(status) => Ok(status),
        }
    }

    /// Opens a tunnel with `token` and keeps it: the WebSocket when the cloud admitted it
    /// (101), or the status it answered instead.
    pub async fn hold_tunnel(&self, token: &str) -> Result<Result<HeldTunnel, u16>, Failure> {
        self.open_tunnel(token, None).await
    }

    async fn open_tunnel(
        &self,
        token: &str,
        dms_id: Option<&str>,
    ) -> Result<Result<HeldTunnel, u16>, Failure> {
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
        if let Some(dms_id) = dms_id {
            let named = dms_id
                .parse()
                .map_err(|_| harness("DMS ID is not a header value".into()))?;
            request.headers_mut().insert(DMS_HEADER, named);
        }
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
            Ok((ws, _)) => Ok(Ok(ws)),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Ok(Err(response.status().as_u16()))
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

    /// Every response this client received, in order, each redirect hop on its own.
    pub fn seen(&self) -> Vec<Hop> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reads one response whole and records it.
    async fn hop(
        &self,
        method: &reqwest::Method,
        url: &reqwest::Url,
        sent: reqwest::Result<reqwest::Response>,
        path: &str,
    ) -> Result<Hop, Failure> {
        let response =
            sent.map_err(|e| Failure::Harness(format!("cloud unreachable for {path}: {e}")))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response.text().await.unwrap_or_default();
        let hop = Hop {
            method: method.to_string(),
            url: url.to_string(),
            status,
            headers,
            body,
        };
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(hop.clone());
        Ok(hop)
    }
}

fn header(hop: &Hop, name: &str) -> Option<String> {
    hop.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// The `name=value` of the first cookie `hop` set.
fn first_cookie(hop: &Hop) -> Option<String> {
    header(hop, "set-cookie").and_then(|v| v.split(';').next().map(str::to_owned))
}

/// Where a redirect from `from` to `location` goes; a fragment stays in the browser, as it
/// would, and is never sent.
fn next_url(from: &reqwest::Url, location: &str, path: &str) -> Result<reqwest::Url, Failure> {
    let mut next = from.join(location).map_err(|e| {
        Failure::precondition(
            format!("following the redirect of {path}"),
            "a Location a browser can follow",
            format!("{location:?}: {e}"),
        )
    })?;
    next.set_fragment(None);
    Ok(next)
}
