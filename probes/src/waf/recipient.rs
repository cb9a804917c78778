//! The corpus as a share's recipient sends it, against any deployment: sign in on the sharing
//! host with the recipient's account, open the mailed link (the cloud answers with the viewer
//! session's cookie and the way to the DMS's dashboard app), read the dashboard's calls from
//! the app's definition, as the browser does, then send every case's mutation of every call
//! through the link, each as its own request. A recipient never holds the DMS's session, so a
//! mutation's `connection` is left out wherever the corpus would write it (the gateway
//! attaches the session); everything else goes as the case says, as far as an HTTP client
//! sends it (dot segments in a path are resolved by the URL parser, as a browser would).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use fixtures::AttackCorpus;
use serde_json::{Map, Value, json};

use super::call::CallFile;
use super::mutate::{Mutation, mutate};
use super::probe::{WafCase, WafProbeError, WafReport, WafVerdict};

/// Stands for the session a recipient does not have; removed from every mutation.
const NO_SESSION: &str = "conform-recipient-holds-no-session";

/// Who the probe is and how it reaches the sharing host.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// The link the share's mail carried.
    pub link: String,
    pub email: String,
    pub password: String,
    /// Roots to trust instead of the system's, PEM.
    pub ca_pem: Option<Vec<u8>>,
    /// Names to resolve to these addresses, as curl's `--resolve`.
    pub resolve: Vec<(String, SocketAddr)>,
}

/// A signed-in recipient with an open viewer.
struct Viewer {
    http: reqwest::Client,
    /// `https://host:port`.
    origin: String,
    /// `/s/{token}/v/{viewer}/`: the viewer session is the path, a capability; the page's
    /// requests carry no cookie (the cloud sandboxes the DMS's page).
    base: String,
}

fn refused(step: &str, why: impl std::fmt::Display) -> WafProbeError {
    WafProbeError::Recipient(format!("{step}: {why}"))
}

/// The `name=value` of a `Set-Cookie` answer.
fn cookie_of(answer: &reqwest::Response) -> Option<String> {
    answer
        .headers()
        .get(reqwest::header::SET_COOKIE)?
        .to_str()
        .ok()?
        .split(';')
        .next()
        .map(str::to_owned)
}

async fn open(recipient: &Recipient) -> Result<Viewer, WafProbeError> {
    // One connection per request, as the corpus sends each mutation on its own.
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0);
    if let Some(pem) = &recipient.ca_pem {
        let roots = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| refused("the CA", e))?;
        builder = builder.tls_certs_only(roots);
    }
    for (name, addr) in &recipient.resolve {
        builder = builder.resolve(name, *addr);
    }
    let http = builder.build().map_err(|e| refused("the HTTP client", e))?;
    let link = reqwest::Url::parse(&recipient.link).map_err(|e| refused("the link", e))?;
    let origin = link.origin().ascii_serialization();
    let signed_in = http
        .post(format!("{origin}/account/login"))
        .json(&json!({ "email": recipient.email, "password": recipient.password }))
        .send()
        .await
        .map_err(|e| refused("signing in", e))?;
    let session = cookie_of(&signed_in)
        .filter(|_| signed_in.status().is_success())
        .ok_or_else(|| refused("signing in", format!("HTTP {}", signed_in.status())))?;
    let opened = http
        .get(link.as_str())
        .header(reqwest::header::COOKIE, &session)
        .send()
        .await
        .map_err(|e| refused("opening the link", e))?;
    let location = opened
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(base) = location.filter(|_| opened.status() == reqwest::StatusCode::SEE_OTHER) else {
        return Err(refused(
            "opening the link",
            format!("HTTP {} without a viewer session", opened.status()),
        ));
    };
    Ok(Viewer { http, origin, base })
}

impl Viewer {
    /// The dashboard's calls, from the app's definition: (method, parameters), each once.
    async fn calls(&self) -> Result<Vec<(String, Map<String, Value>)>, WafProbeError> {
        let answer = self
            .http
            .get(format!("{}{}definition", self.origin, self.base))
            .send()
            .await
            .map_err(|e| refused("reading the dashboard's definition", e))?;
        let status = answer.status();
        let definition: Value = answer
            .json()
            .await
            .map_err(|e| refused("reading the dashboard's definition", e))?;
        if !status.is_success() {
            return Err(refused("reading the dashboard's definition", status));
        }
        let mut calls = Vec::new();
        for component in definition["components"].as_array().into_iter().flatten() {
            for call in component["calls"].as_array().into_iter().flatten() {
                let method = call["method"].as_str().unwrap_or_default().to_owned();
                let parameters = call["parameters"].as_object().cloned().unwrap_or_default();
                if !method.is_empty() && !calls.contains(&(method.clone(), parameters.clone())) {
                    calls.push((method, parameters));
                }
            }
        }
        Ok(calls)
    }

    /// Where `target` goes under the link.
    fn url(&self, target: &str) -> String {
        format!(
            "{}{}{}",
            self.origin,
            self.base.trim_end_matches('/'),
            target
        )
    }

    /// The request as an HTTP client sends it: the URL as parsed (dot segments resolved).
    fn as_sent(&self, m: &Mutation) -> (String, String, Option<String>, Vec<u8>) {
        let url = self.url(&m.target);
        let url = reqwest::Url::parse(&url).map_or(url, |u| u.to_string());
        (m.verb.clone(), url, m.content_type.clone(), m.body.clone())
    }

    /// One mutation under the link; the answer's status.
    async fn send(&self, mutation: &Mutation) -> Result<u16, String> {
        let verb =
            reqwest::Method::from_bytes(mutation.verb.as_bytes()).map_err(|e| e.to_string())?;
        let url = format!(
            "{}{}{}",
            self.origin,
            self.base.trim_end_matches('/'),
            mutation.target
        );
        let mut request = self.http.request(verb, url).body(mutation.body.clone());
        if let Some(content_type) = &mutation.content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        let answer = request.send().await.map_err(|e| chain(&e))?;
        Ok(answer.status().as_u16())
    }
}

/// An error with its causes, one after the other.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(&format!(": {next}"));
        cause = next.source();
    }
    text
}

/// `text` without the session a recipient does not hold, in each form the corpus writes it.
fn without_session(text: &str) -> String {
    let quoted = serde_json::to_string(NO_SESSION).unwrap_or_default();
    let member = format!("\"connection\":{quoted}");
    let mut out = text
        .replace(&format!("{member},"), "")
        .replace(&format!(",{member}"), "")
        .replace(&member, "")
        .replace(&format!("connection={NO_SESSION}&"), "")
        .replace(&format!("&connection={NO_SESSION}"), "")
        .replace(&format!("connection={NO_SESSION}"), "")
        .replace(&format!("<connection>{NO_SESSION}</connection>"), "");
    out = out.replace(NO_SESSION, "");
    out
}

/// Signs in, opens the link and sends every case of the corpus on every call of the shared
/// dashboard; a case off the whitelist answered 2xx is a finding.
pub async fn probe_as_recipient(recipient: &Recipient) -> Result<WafReport, WafProbeError> {
    let corpus = AttackCorpus::load()?;
    let viewer = open(recipient).await?;
    let calls = viewer.calls().await?;
    if calls.is_empty() {
        return Err(refused("reading the dashboard's definition", "no calls"));
    }
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    let mut baseline_status = 0;
    for (method, parameters) in &calls {
        let mut body = Map::new();
        body.insert("connection".into(), Value::String(NO_SESSION.into()));
        body.extend(parameters.clone());
        let call = CallFile {
            method: method.clone(),
            path: None,
            body,
            headers: BTreeMap::new(),
            allowed: Vec::new(),
            blocked: Vec::new(),
        };
        let plain = Mutation {
            verb: "POST".into(),
            target: format!("/API/v1/Json.asmx/{method}"),
            content_type: Some("application/json; charset=utf-8".into()),
            body: Value::Object(parameters.clone()).to_string().into_bytes(),
        };
        baseline_status = match viewer.send(&plain).await {
            Ok(status) if (200..300).contains(&status) => status,
            Ok(status) => {
                return Err(WafProbeError::Baseline(format!("{method}: HTTP {status}")));
            }
            Err(why) => return Err(WafProbeError::Baseline(format!("{method}: {why}"))),
        };
        for case in &corpus.cases {
            let Some(mut mutation) = mutate(case, &call) else {
                skipped.push(format!("{} on {method}", case.id));
                continue;
            };
            mutation.target = without_session(&mutation.target);
            mutation.body = without_session(&String::from_utf8_lossy(&mutation.body)).into_bytes();
            // Without the session some cases are the call itself (a duplicated session), and
            // an HTTP client rewrites some paths (dot segments, backslashes) into the call's
            // own: a request that goes out as the call itself is no attack, and is not judged.
            if viewer.as_sent(&mutation) == viewer.as_sent(&plain) {
                skipped.push(format!("{} on {method}", case.id));
                continue;
            }
            let verdict = match viewer.send(&mutation).await {
                Ok(status) if (200..300).contains(&status) => WafVerdict::Allowed(status),
                Ok(status) => WafVerdict::Blocked(status),
                Err(why) => WafVerdict::NoAnswer(why),
            };
            cases.push(WafCase {
                id: format!("{} on {method}", case.id),
                class: case.class.clone(),
                expect: case.expect,
                verdict,
            });
        }
    }
    Ok(WafReport {
        url: recipient.link.clone(),
        baseline_status,
        cases,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_a_recipient_lacks_is_left_out_of_every_form() {
        let json = format!("{{\"connection\":\"{NO_SESSION}\",\"elementID\":1}}");
        assert_eq!(without_session(&json), "{\"elementID\":1}");
        let form = format!("connection={NO_SESSION}&dmaID=2");
        assert_eq!(without_session(&form), "dmaID=2");
        let xml = format!("<a><connection>{NO_SESSION}</connection></a>");
        assert_eq!(without_session(&xml), "<a></a>");
    }
}
