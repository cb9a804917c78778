//! Someone a dashboard was shared with: reads the mails the cloud sent to their address, opens
//! the link, signs in (or creates the account for the address with the mailed code), and then
//! does what the DMS's dashboard app does in a browser: reads the dashboard's definition and
//! calls each of its Web Services methods, through the cloud's relay under the link, at every
//! heartbeat. Its own HTTPS stack trusts the environment's CA and finds the published names on
//! loopback, as a browser with a hosts-file entry would. It sends cookies as a browser does
//! with the cloud's sandboxed page: its sign-in on its own requests and navigations, none on
//! the page's requests under the viewer's path (`/s/{token}/v/{viewer}/`, the session a
//! capability in the path).

use mocks::Environment;
use mocks::cloud::{Endpoint, Mail};
use serde_json::{Value, json};

use crate::Failure;

/// One answer as the recipient's browser got it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Seen {
    pub status: u16,
    pub body: String,
    /// The path the answer came from, after the redirects the browser followed.
    pub path: String,
    /// The answer's headers, names in lower case, as the browser got them.
    #[serde(skip)]
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The values of header `name`, in order.
    pub fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Where the page's first frame points, as the browser reads its `src` attribute.
    pub fn frame_src(&self) -> Option<String> {
        self.frame_attribute("src")
    }

    /// The attribute `name` of the page's first frame, unescaped as a browser reads it.
    pub fn frame_attribute(&self, name: &str) -> Option<String> {
        let tag = &self.body[self.body.find("<iframe")?..];
        let tag = &tag[..tag.find('>')?];
        let opening = format!(" {name}=\"");
        let value = &tag[tag.find(&opening)? + opening.len()..];
        let value = &value[..value.find('"')?];
        Some(
            value
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        )
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

    /// Signs out on the sharing host; the status the cloud answered. The browser forgets its
    /// sign-in cookie; an open viewer's URL stays in its tab.
    pub async fn sign_out(&mut self) -> Result<u16, Failure> {
        let answer = self.send_json("account/logout", &json!({})).await?;
        self.cookie = None;
        Ok(answer.status().as_u16())
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

    /// Opens `link` (an emailed URL) on the sharing host, following the cloud's way on to the
    /// dashboard app as a browser does (a navigation, with its sign-in): the tab's page, and
    /// when that page frames another, what the frame got (the frame's answer).
    pub async fn open(&self, link: &str) -> Result<Seen, Failure> {
        let page = self.open_tab(link).await?;
        match page.frame_src() {
            Some(src) if page.status == 200 => self.frame(&src).await,
            _ => Ok(page),
        }
    }

    /// Opens `link` as `open` does, but only what the tab itself shows.
    pub async fn open_tab(&self, link: &str) -> Result<Seen, Failure> {
        let path = path_of(link)?;
        let answer = self
            .navigation(&path)
            .send()
            .await
            .map_err(|e| Failure::Harness(format!("GET {path}: {e}")))?;
        let location = answer
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match (answer.status().as_u16(), location) {
            (303, Some(next)) => self.navigate(&next).await,
            _ => seen(Ok(answer), &path).await,
        }
    }

    /// Opens `path` on the sharing host as a page (a top-level navigation: the browser sends
    /// its sign-in and says it wants a document), as a URL typed or pasted into the address bar.
    pub async fn navigate(&self, path: &str) -> Result<Seen, Failure> {
        seen(self.navigation(path).send().await, path).await
    }

    /// Loads `path` into a frame of a page of the sharing host: a navigation of the frame, with
    /// the sign-in (the page that holds the frame is the site's own).
    pub async fn frame(&self, path: &str) -> Result<Seen, Failure> {
        let request = self
            .request(reqwest::Method::GET, path)
            .header("sec-fetch-dest", "iframe")
            .header("sec-fetch-mode", "navigate");
        seen(request.send().await, path).await
    }

    /// One heartbeat of an open viewer, as the dashboard app makes it: the definition, then
    /// every call of every component. The answer's status is the first that was not 200 (or
    /// 200), its body the definition and every answer, as JSON.
    pub async fn heartbeat(&self, viewer: &Viewer) -> Result<Seen, Failure> {
        let path = format!("{}definition", viewer.base);
        let definition = seen(
            self.page_request(reqwest::Method::GET, &path).send().await,
            &path,
        )
        .await?;
        if definition.status != 200 {
            return Ok(definition);
        }
        let parsed = definition.json();
        let mut status = 200;
        let mut answers = Vec::new();
        for component in parsed["components"].as_array().into_iter().flatten() {
            for call in component["calls"].as_array().into_iter().flatten() {
                let method = call["method"].as_str().unwrap_or_default();
                let answer = self.call(viewer, method, &call["parameters"]).await?;
                if status == 200 && answer.status != 200 {
                    status = answer.status;
                }
                answers.push(
                    json!({ "method": method, "status": answer.status, "answer": answer.json() }),
                );
            }
        }
        Ok(Seen {
            status,
            body: json!({ "definition": parsed, "answers": answers }).to_string(),
            path: viewer.base.clone(),
            headers: definition.headers,
        })
    }

    /// One Web Services call through the viewer, as the app sends it: JSON, no connection.
    pub async fn call(
        &self,
        viewer: &Viewer,
        method: &str,
        parameters: &Value,
    ) -> Result<Seen, Failure> {
        let path = format!("{}API/v1/Json.asmx/{method}", viewer.base);
        seen(
            self.page_request(reqwest::Method::POST, &path)
                .json(parameters)
                .send()
                .await,
            &path,
        )
        .await
    }

    /// Any request under the viewer's path, with extra headers: what a recipient can send.
    pub async fn send(
        &self,
        viewer: &Viewer,
        method: reqwest::Method,
        under: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Seen, Failure> {
        let path = format!("{}{}", viewer.base, under.trim_start_matches('/'));
        let mut request = self.page_request(method, &path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        seen(request.send().await, &path).await
    }

    /// A CORS preflight for a POST of JSON under the viewer's path, as the browser sends it
    /// for the sandboxed page (whose origin is `null`): the status and the answer's headers.
    pub async fn preflight(
        &self,
        viewer: &Viewer,
        under: &str,
    ) -> Result<(u16, Vec<(String, String)>), Failure> {
        let path = format!("{}{}", viewer.base, under.trim_start_matches('/'));
        let answer = self
            .page_request(reqwest::Method::OPTIONS, &path)
            .header("origin", "null")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .map_err(|e| Failure::Harness(format!("OPTIONS {path}: {e}")))?;
        let headers = answer
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        Ok((answer.status().as_u16(), headers))
    }

    /// GETs `path` on the sharing host, with the cookies a browser would send there.
    pub async fn get(&self, path: &str) -> Result<Seen, Failure> {
        seen(self.request(reqwest::Method::GET, path).send().await, path).await
    }

    /// The browser's sign-in cookie on the sharing host (`name=value`), if it has signed in:
    /// what a recipient writing requests by hand adds to any of them.
    pub fn sign_in_cookie(&self) -> Option<String> {
        self.cookie.clone()
    }

    async fn send_json(&self, path: &str, body: &Value) -> Result<reqwest::Response, Failure> {
        self.request(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .map_err(|e| Failure::Harness(format!("POST {path}: {e}")))
    }

    /// A request of this browser's own (a form, an API call): with its sign-in.
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self.bare(method, path);
        match &self.cookie {
            Some(cookie) => request.header(reqwest::header::COOKIE, cookie),
            None => request,
        }
    }

    /// A top-level navigation to `path`: with the sign-in, and the fetch metadata a browser
    /// sends with one.
    fn navigation(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::GET, path)
            .header("sec-fetch-dest", "document")
            .header("sec-fetch-mode", "navigate")
    }

    /// A request the DMS's sandboxed page sends: from an opaque origin, so with no cookie of
    /// the site's, and with the fetch metadata the browser adds to a page's `fetch`.
    fn page_request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.bare(method, path)
            .header("sec-fetch-dest", "empty")
            .header("sec-fetch-mode", "cors")
            .header("sec-fetch-site", "cross-site")
    }

    /// A request with nothing a browser adds: no cookie, no fetch metadata.
    fn bare(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let url = format!("{}{}", self.base, path.trim_start_matches('/'));
        self.http.request(method, url)
    }

    /// GETs `path` with exactly `headers`: no cookie and no fetch metadata unless they are
    /// among them, as a tool or a browser too old to send fetch metadata does.
    pub async fn get_with_only(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Seen, Failure> {
        let mut request = self.bare(reqwest::Method::GET, path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        seen(request.send().await, path).await
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
    let headers = answer
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = answer
        .text()
        .await
        .map_err(|e| Failure::Harness(format!("reading {path}: {e}")))?;
    Ok(Seen {
        status,
        body,
        path: path.to_owned(),
        headers,
    })
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
pub fn code_in(mail: &Mail) -> Option<String> {
    mail.body
        .lines()
        .map(str::trim)
        .find(|line| line.len() >= 6 && line.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_owned)
}

/// An open viewer: the dashboard app the DMS served under the link's path.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Viewer {
    /// The path under which the app and its calls go (`/s/{token}/v/{viewer}/`): the viewer
    /// session's capability is in it.
    pub base: String,
}

impl Viewer {
    /// The viewer `page` is, if it is the dashboard app.
    pub fn of(page: &Seen) -> Option<Self> {
        (page.status == 200 && page.body.contains("data-app=\"shared-dashboard\"")).then(|| Self {
            base: page.path.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frames_attributes_are_read_as_a_browser_reads_them() {
        let page = Seen {
            status: 200,
            body: "<p><iframe id=x sandbox=\"allow-scripts\" src=\"/s/t/v/w/?a=1&amp;b=&quot;2&quot;\">"
                .into(),
            path: "/".into(),
            headers: Vec::new(),
        };
        assert_eq!(
            page.frame_attribute("sandbox").as_deref(),
            Some("allow-scripts")
        );
        assert_eq!(page.frame_src().as_deref(), Some("/s/t/v/w/?a=1&b=\"2\""));
        assert_eq!(page.frame_attribute("title"), None);
    }
}
