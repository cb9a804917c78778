//! Sends every mutation to the WAF, one request per connection, and judges the answers.

use std::time::Duration;

use fixtures::{AttackCorpus, Expected};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::call::CallFile;
use super::mutate::{Mutation, mutate};

/// How long one exchange may take before it counts as unanswered.
const EXCHANGE_BOUND: Duration = Duration::from_secs(10);
/// The most of an answer read: enough for a status line and a refusal.
const ANSWER_LIMIT: u64 = 64 * 1024;

/// The probe could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum WafProbeError {
    /// Only `http://HOST:PORT/` is spoken: the WAF sits behind the gateway on plain HTTP.
    #[error("not an http://HOST:PORT/ URL: {0}")]
    Url(String),
    #[error("cannot load the attack corpus: {0}")]
    Corpus(#[from] fixtures::FixtureError),
    /// The whitelisted call itself was not let through: nothing can be judged against it.
    #[error(
        "the whitelisted call itself was answered {0}, which the call file does not read as allowed"
    )]
    Baseline(String),
    /// Recipient mode could not reach the dashboard's calls: the link, the CA, the sign-in or
    /// the app's definition, before any call was judged.
    #[error("as the recipient, {0}")]
    Recipient(String),
}

/// How the WAF took one mutation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "status", rename_all = "snake_case")]
pub enum WafVerdict {
    Allowed(u16),
    Blocked(u16),
    /// A status the call file reads as neither.
    Other(u16),
    NoAnswer(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct WafCase {
    pub id: String,
    pub class: String,
    /// What the corpus says the WAF must do.
    pub expect: Expected,
    pub verdict: WafVerdict,
}

impl WafCase {
    /// A mutation off the whitelist that was let through.
    pub fn is_finding(&self) -> bool {
        self.expect == Expected::Blocked && matches!(self.verdict, WafVerdict::Allowed(_))
    }

    /// The same call, reworded, that was blocked: a broken dashboard, not a hole.
    pub fn is_false_positive(&self) -> bool {
        self.expect == Expected::Allowed && !matches!(self.verdict, WafVerdict::Allowed(_))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct WafReport {
    pub url: String,
    pub baseline_status: u16,
    pub cases: Vec<WafCase>,
    /// Corpus cases one call cannot express (another share's session, a deleted share's,
    /// another call of the dashboard, a parameter the call lacks).
    pub skipped: Vec<String>,
}

impl WafReport {
    pub fn findings(&self) -> usize {
        self.cases.iter().filter(|c| c.is_finding()).count()
    }
}

/// Sends the call as it is (it must be allowed), then every case of the corpus that applies.
pub async fn probe_waf(url: &str, call: &CallFile) -> Result<WafReport, WafProbeError> {
    let addr = authority(url)?;
    let corpus = AttackCorpus::load()?;
    let plain = Mutation {
        verb: "POST".into(),
        target: call
            .path
            .clone()
            .unwrap_or_else(|| format!("/API/v1/Json.asmx/{}", call.method)),
        content_type: Some("application/json; charset=utf-8".into()),
        body: serde_json::Value::Object(call.body.clone())
            .to_string()
            .into_bytes(),
    };
    let baseline = send(&addr, call, &plain).await;
    let baseline_status = match baseline {
        Ok(status) if call.judge(status) == Some(true) => status,
        Ok(status) => return Err(WafProbeError::Baseline(format!("HTTP {status}"))),
        Err(why) => return Err(WafProbeError::Baseline(why)),
    };
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    for case in &corpus.cases {
        let Some(mutation) = mutate(case, call) else {
            skipped.push(case.id.clone());
            continue;
        };
        let verdict = match send(&addr, call, &mutation).await {
            Ok(status) => match call.judge(status) {
                Some(true) => WafVerdict::Allowed(status),
                Some(false) => WafVerdict::Blocked(status),
                None => WafVerdict::Other(status),
            },
            Err(why) => WafVerdict::NoAnswer(why),
        };
        cases.push(WafCase {
            id: case.id.clone(),
            class: case.class.clone(),
            expect: case.expect,
            verdict,
        });
    }
    Ok(WafReport {
        url: url.to_owned(),
        baseline_status,
        cases,
        skipped,
    })
}

fn authority(url: &str) -> Result<String, WafProbeError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| WafProbeError::Url(url.to_owned()))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || !host.contains(':') {
        return Err(WafProbeError::Url(url.to_owned()));
    }
    Ok(host.to_owned())
}

/// One request on its own connection, written by hand so that any target or body goes out as
/// the case wrote it; the answer's status.
async fn send(addr: &str, call: &CallFile, mutation: &Mutation) -> Result<u16, String> {
    let exchange = async {
        let mut socket = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {addr}\r\n",
            mutation.verb, mutation.target
        );
        if let Some(content_type) = &mutation.content_type {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        for (name, value) in &call.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            mutation.body.len()
        ));
        let mut request = head.into_bytes();
        request.extend_from_slice(&mutation.body);
        // A WAF may answer and close before it reads a large body: that is an answer too.
        let _ = socket.write_all(&request).await;
        let mut answer = Vec::new();
        let _ = (&mut socket)
            .take(ANSWER_LIMIT)
            .read_to_end(&mut answer)
            .await;
        let text = String::from_utf8_lossy(&answer);
        text.strip_prefix("HTTP/1.")
            .and_then(|rest| rest.get(2..5))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| "no HTTP status line".to_owned())
    };
    tokio::time::timeout(EXCHANGE_BOUND, exchange)
        .await
        .map_err(|_| format!("no answer within {EXCHANGE_BOUND:?}"))?
}

pub fn render_waf_table(report: &WafReport) -> String {
    let width = report.cases.iter().map(|c| c.id.len()).max().unwrap_or(0);
    let mut out = format!(
        "{}\nwhitelisted call: {}\n\n",
        report.url, report.baseline_status
    );
    for case in &report.cases {
        let verdict = match &case.verdict {
            WafVerdict::Allowed(s) => format!("allowed {s}"),
            WafVerdict::Blocked(s) => format!("blocked {s}"),
            WafVerdict::Other(s) => format!("other   {s}"),
            WafVerdict::NoAnswer(why) => format!("no answer ({why})"),
        };
        let mark = if case.is_finding() {
            "  <- OFF THE WHITELIST, LET THROUGH"
        } else if case.is_false_positive() {
            "  <- the call reworded, blocked"
        } else {
            ""
        };
        out.push_str(&format!("{:width$}  {verdict}{mark}\n", case.id));
    }
    out.push_str(&format!(
        "\n{} mutations, {} let through off the whitelist, {} skipped (not expressible from one call)\n",
        report.cases.len(),
        report.findings(),
        report.skipped.len()
    ));
    out
}
