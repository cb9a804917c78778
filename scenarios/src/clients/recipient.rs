//! Someone a dashboard was shared with: reads the mails the cloud sent to their address, opens
//! the link, signs in (or creates the account for the address with the mailed code), and keeps
//! the viewer alive with its heartbeat. Its own HTTPS stack trusts the environment's CA and finds
//! the published names on loopback, as a browser with a hosts-file entry would.

use mocks::Environment;
use mocks::cloud::{Endpoint, Mail};
use serde_json::{Value, json};

use crate::Failure;

/// One answer as the recipient's browser got it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Seen {
    pub status: u16,
    pub body: String,
}

impl Seen {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A recipient's browser, signed in to dataminer.services on the sharing host or not.
#[derive(Debug, Clone)]
pub struct ShareRecipient {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

impl ShareRecipient {
    /// A browser that has not signed in.
    pub fn new(env: &Environment) -> Result<Self, Failure> {
        let ca = reqwest::Certificate::from_der(&env.ca_der())
            .map_err(|e| Failure::Harness(format!("CA unusable by reqwest: {e}")))?;
        let mut builder = reqwest::Client::builder()
            .tls_certs_only([ca])
            .redirect(reqwest::redirect::Policy::none());
        for (name, addr) in env.published() {
            builder = builder.resolve(name, addr);
        }
        let http = builder
            .build()
            .map_err(|e| Failure::Harness(format!("cannot build the recipient's client: {e}")))?;
        Ok(Self {
            http,
            base: env.cloud_url(Endpoint::Sharing),
            cookie: None,
        })
    }

    /// Signs in with `email` and `password` on the sharing host.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Result<(), Failure> {
        let answer = self
            .send_json(
                "account/login",
                &json!({ "email": email, "password": password }),
            )
            .await?;
        self.keep_cookie(answer, "signing in on the sharing host")
    }

    /// Creates the account of `email` as a recipient does: asks for a code, reads it from the
    /// mail the cloud sent to the address, and sends it back with a password.
    pub async fn sign_up(
        &mut self,
        env: &Environment,
        email: &str,
        password: &str,
    ) -> Result<(), Failure> {
        let code = self.request_code(env, email).await?;
        let answer = self
            .create_account(email, &code, password)
            .await
            .map_err(|e| Failure::precondition("creating the account", "an answer", e))?;
        self.keep_cookie(answer, "creating the account with the mailed code")
    }

    /// Asks for a sign-up code for `email`: the code as the mail carries it.
    pub async fn request_code(&self, env: &Environment, email: &str) -> Result<String, Failure> {
        let before = env.cloud().outbox().to(email).len();
        self.send_json("account/create/code", &json!({ "email": email }))
            .await?;
        let mails = env.cloud().outbox().to(email);
        let code = mails
            .get(before..)
            .and_then(|new| new.iter().find_map(code_in))
            .ok_or_else(|| {
                Failure::precondition(
                    format!("the sign-up code mailed to {email}"),
                    "a mail with a code",
                    &mails,
                )
            })?;
        Ok(code)
    }

    /// `POST /account/create` with the code and password: the raw answer.
    pub async fn create_account(
        &self,
        email: &str,
        code: &str,
        password: &str,
    ) -> Result<reqwest::Response, Failure> {
        self.request(reqwest::Method::POST, "account/create")
            .json(&json!({ "email": email, "code": code, "password": password }))
            .send()
            .await
            .map_err(|e| Failure::Harness(format!("POST account/create: {e}")))
    }

    /// Opens `link` (an emailed URL) on the sharing host.
    pub async fn open(&self, link: &str) -> Result<Seen, Failure> {
        self.get(&path_of(link)?, None).await
    }

    /// One heartbeat of an open viewer: the page's data URL, with its session.
    pub async fn heartbeat(&self, viewer: &Viewer) -> Result<Seen, Failure> {
        self.get(&viewer.data_url, Some(&viewer.session)).await
    }

    /// GETs `path` on the sharing host, with a viewer session when given.
    pub async fn get(&self, path: &str, session: Option<&str>) -> Result<Seen, Failure> {
        let mut request = self.request(reqwest::Method::GET, path);
        if let Some(session) = session {
            request = request.header("x-viewer-session", session);
        }
        seen(request.send().await, path).await
    }

    async fn send_json(&self, path: &str, body: &Value) -> Result<reqwest::Response, Failure> {
        self.request(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .map_err(|e| Failure::Harness(format!("POST {path}: {e}")))
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let url = format!("{}{}", self.base, path.trim_start_matches('/'));
        let mut request = self.http.request(method, url);
        if let Some(cookie) = &self.cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        request
    }

    fn keep_cookie(&mut self, answer: reqwest::Response, step: &str) -> Result<(), Failure> {
        let status = answer.status().as_u16();
        let cookie = answer
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        match cookie {
            Some(cookie) if (200..300).contains(&status) => {
                self.cookie = Some(cookie);
                Ok(())
            }
            _ => Err(Failure::precondition(
                step,
                "a 2xx answer with a session cookie",
                format!("HTTP {status}"),
            )),
        }
    }
}

async fn seen(sent: reqwest::Result<reqwest::Response>, path: &str) -> Result<Seen, Failure> {
    let answer = sent.map_err(|e| Failure::Harness(format!("GET {path}: {e}")))?;
    let status = answer.status().as_u16();
    let body = answer
        .text()
        .await
        .map_err(|e| Failure::Harness(format!("reading {path}: {e}")))?;
    Ok(Seen { status, body })
}

/// The path (and query) of a URL: what the recipient's browser asks the host for.
pub fn path_of(link: &str) -> Result<String, Failure> {
    let url = reqwest::Url::parse(link)
        .map_err(|e| Failure::precondition("reading the emailed link", "a URL", e.to_string()))?;
    Ok(match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    })
}

/// The first `https://` URL in a mail's body.
pub fn link_in(mail: &Mail) -> Option<String> {
    let at = mail.body.find("https://")?;
    let rest = &mail.body[at..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

/// A sign-up code: the mail's line that is one word of letters and digits alone.
fn code_in(mail: &Mail) -> Option<String> {
    mail.body
        .lines()
        .map(str::trim)
        .find(|line| line.len() >= 6 && line.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_owned)
}

/// What a viewer page tells its script: where its heartbeat goes and with which session.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Viewer {
    pub data_url: String,
    pub session: String,
}

impl Viewer {
    /// The viewer the page `html` runs, if it is one.
    pub fn of(html: &str) -> Option<Self> {
        Some(Self {
            data_url: attribute(html, "data-url")?,
            session: attribute(html, "data-session")?,
        })
    }
}

/// The value of the first `name="..."` attribute in `html`, unescaped for the few entities a
/// page writes.
fn attribute(html: &str, name: &str) -> Option<String> {
    let marker = format!("{name}=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}
