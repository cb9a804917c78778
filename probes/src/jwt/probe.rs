//! The forgery battery sent to any endpoint that takes a bearer token, judged by the status
//! codes the user names, with the real tokens past their `exp` or before their `nbf` the user
//! gives, and the offline weak-secret check: `conform probe jwt`.

use std::net::SocketAddr;

use serde::Serialize;
use serde_json::Value;

use super::attacks::without_secret;
use super::forge::decode_unverified;
use super::weak::{WeakSecretCheck, check_weak_secret};

/// How to reach the endpoint and how to read its answers.
#[derive(Debug, Clone)]
pub struct JwtProbeOptions {
    /// Statuses that mean "refused" (default 401 and 403). Any 2xx means accepted.
    pub refused: Vec<u16>,
    /// Roots to trust instead of the system's, PEM.
    pub ca_pem: Option<Vec<u8>>,
    /// Names to resolve to these addresses, as curl's `--resolve`.
    pub resolve: Vec<(String, SocketAddr)>,
    /// Secrets tried offline besides the bundled list (`--wordlist`).
    pub wordlist: Vec<Vec<u8>>,
    /// A real token of the service whose `exp` has passed: it must be refused.
    pub expired: Option<String>,
    /// A real token of the service whose `nbf` is still ahead: it must be refused.
    pub not_yet_valid: Option<String>,
}

impl Default for JwtProbeOptions {
    fn default() -> Self {
        Self {
            refused: vec![401, 403],
            ca_pem: None,
            resolve: Vec::new(),
            wordlist: Vec::new(),
            expired: None,
            not_yet_valid: None,
        }
    }
}

/// The probe could not be run: nothing it found says anything about the endpoint's tokens.
#[derive(Debug, thiserror::Error)]
pub enum JwtProbeError {
    /// The CA file is not PEM certificates reqwest can use.
    #[error("the CA is unusable: {0}")]
    Ca(reqwest::Error),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
    /// The valid token's request did not get an answer at all.
    #[error("the endpoint did not answer the valid token: {0}")]
    Unreachable(reqwest::Error),
    /// The valid token itself was not accepted, so a refusal of a forgery means nothing.
    #[error(
        "the valid token was answered {0}, not 2xx: the probe needs a token the endpoint accepts"
    )]
    BaselineRefused(u16),
    /// The bundled list of weak secrets could not be read.
    #[error("cannot read the list of weak secrets: {0}")]
    Secrets(#[from] fixtures::FixtureError),
    /// The token given as expired is not: its refusal would prove nothing.
    #[error("the token given as expired has {0}: it must carry an exp in the past")]
    NotExpired(String),
    /// The token given as not yet valid is valid already.
    #[error("the token given as not yet valid has {0}: it must carry an nbf in the future")]
    AlreadyValid(String),
}

/// What the endpoint did with one forged token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "status", rename_all = "snake_case")]
pub enum JwtVerdict {
    /// A 2xx: the forgery was taken for a valid token.
    Accepted(u16),
    /// One of the statuses the user named as refusals.
    Refused(u16),
    /// Neither 2xx nor a named refusal: worth a look, not counted as accepted.
    Other(u16),
    /// No answer (connection reset, timeout).
    NoAnswer(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct JwtCase {
    pub name: String,
    #[serde(flatten)]
    pub verdict: JwtVerdict,
}

#[derive(Debug, Clone, Serialize)]
pub struct JwtReport {
    pub url: String,
    pub baseline_status: u16,
    pub cases: Vec<JwtCase>,
    /// The offline check of the valid token's HMAC against common secrets; absent when the
    /// token is not HMAC-signed (`weak_secret_skipped` says why).
    pub weak_secret: Option<WeakSecretCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weak_secret_skipped: Option<String>,
}

impl JwtReport {
    pub fn accepted(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| matches!(c.verdict, JwtVerdict::Accepted(_)))
            .count()
    }

    /// Every flaw found, named: each token accepted that must not be, and a guessable secret.
    pub fn findings(&self) -> Vec<String> {
        let mut found: Vec<String> = self
            .cases
            .iter()
            .filter(|c| matches!(c.verdict, JwtVerdict::Accepted(_)))
            .map(|c| format!("accepted: {}", c.name))
            .collect();
        if let Some(secret) = self.weak_secret.as_ref().and_then(|w| w.secret.as_ref()) {
            found.push(format!(
                "weak secret: the token's HMAC verifies with {secret:?}"
            ));
        }
        found
    }
}

/// The name of the expired-token case: what `--expired` sends.
pub const EXPIRED_CASE: &str = "a real token of the service, past its exp";
/// The name of the not-yet-valid case: what `--not-yet-valid` sends.
pub const NOT_YET_VALID_CASE: &str = "a real token of the service, before its nbf";

/// The claim `name` of `token` as seconds, checked against `now` by `holds`.
fn timed_claim(
    token: &str,
    name: &str,
    now: u64,
    holds: fn(u64, u64) -> bool,
) -> Result<(), String> {
    let claims = decode_unverified(token).map(|(_, claims)| claims);
    match claims
        .as_ref()
        .and_then(|c| c.get(name))
        .and_then(Value::as_u64)
    {
        Some(at) if holds(at, now) => Ok(()),
        Some(at) => Err(format!("{name} {at} (now is {now})")),
        None => Err(format!("no numeric {name}")),
    }
}

/// Sends `token`, then every forgery of it that needs no secret, as `Authorization: Bearer`
/// to `url` (GET). For the key-confusion cases the public key is the certificate the endpoint
/// presented, which any client sees.
pub async fn probe_jwt(
    url: &str,
    token: &str,
    options: &JwtProbeOptions,
) -> Result<JwtReport, JwtProbeError> {
    let mut builder = reqwest::Client::builder()
        .tls_info(true)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = &options.ca_pem {
        let roots = reqwest::Certificate::from_pem_bundle(pem).map_err(JwtProbeError::Ca)?;
        builder = builder.tls_certs_only(roots);
    }
    for (name, addr) in &options.resolve {
        builder = builder.resolve(name, *addr);
    }
    let http = builder.build().map_err(JwtProbeError::Client)?;

    // Offline, and before anything is sent: the timed tokens must be what they are said to be.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if let Some(expired) = &options.expired {
        timed_claim(expired, "exp", now, |exp, now| exp < now)
            .map_err(JwtProbeError::NotExpired)?;
    }
    if let Some(early) = &options.not_yet_valid {
        timed_claim(early, "nbf", now, |nbf, now| nbf > now)
            .map_err(JwtProbeError::AlreadyValid)?;
    }
    let mut secrets = fixtures::weak_secrets()?;
    secrets.extend(options.wordlist.iter().cloned());
    let (weak_secret, weak_secret_skipped) = match check_weak_secret(token, &secrets) {
        Ok(check) => (Some(check), None),
        Err(why) => (None, Some(why.to_string())),
    };

    let baseline = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(JwtProbeError::Unreachable)?;
    let baseline_status = baseline.status().as_u16();
    if !baseline.status().is_success() {
        return Err(JwtProbeError::BaselineRefused(baseline_status));
    }
    let public_key = baseline
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .map(<[u8]>::to_vec)
        .unwrap_or_default();

    let mut sent: Vec<(String, String)> = without_secret(token, &public_key)
        .into_iter()
        .map(|attack| (attack.name, attack.token))
        .collect();
    if let Some(expired) = &options.expired {
        sent.push((EXPIRED_CASE.to_owned(), expired.clone()));
    }
    if let Some(early) = &options.not_yet_valid {
        sent.push((NOT_YET_VALID_CASE.to_owned(), early.clone()));
    }
    let mut cases = Vec::new();
    for (name, forged) in sent {
        let verdict = match http.get(url).bearer_auth(&forged).send().await {
            Ok(answer) => judge(answer.status().as_u16(), &options.refused),
            Err(error) => JwtVerdict::NoAnswer(error.to_string()),
        };
        cases.push(JwtCase { name, verdict });
    }
    Ok(JwtReport {
        url: url.to_owned(),
        baseline_status,
        cases,
        weak_secret,
        weak_secret_skipped,
    })
}

fn judge(status: u16, refused: &[u16]) -> JwtVerdict {
    if (200..300).contains(&status) {
        JwtVerdict::Accepted(status)
    } else if refused.contains(&status) {
        JwtVerdict::Refused(status)
    } else {
        JwtVerdict::Other(status)
    }
}

/// One line per forgery, the accepted ones marked, and a count.
pub fn render_jwt_table(report: &JwtReport) -> String {
    let width = report.cases.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut out = format!(
        "{}\nvalid token: {}\n\n",
        report.url, report.baseline_status
    );
    for case in &report.cases {
        let verdict = match &case.verdict {
            JwtVerdict::Accepted(s) => format!("ACCEPTED {s}"),
            JwtVerdict::Refused(s) => format!("refused  {s}"),
            JwtVerdict::Other(s) => format!("other    {s}"),
            JwtVerdict::NoAnswer(why) => format!("no answer ({why})"),
        };
        out.push_str(&format!("{:width$}  {verdict}\n", case.name));
    }
    out.push_str(&format!(
        "\n{} forgeries, {} accepted\n",
        report.cases.len(),
        report.accepted()
    ));
    match (&report.weak_secret, &report.weak_secret_skipped) {
        (Some(check), _) => match &check.secret {
            Some(secret) => out.push_str(&format!(
                "weak secret: the token's {} signature verifies with {secret:?} (offline, {} tried)\n",
                check.alg, check.tried
            )),
            None => out.push_str(&format!(
                "weak secret: none of {} common secrets verifies the token (offline)\n",
                check.tried
            )),
        },
        (None, Some(why)) => out.push_str(&format!("weak secret: not checked: {why}\n")),
        (None, None) => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_2xx_is_accepted_a_named_status_refused_and_anything_else_other() {
        let refused = [401, 403];
        assert_eq!(judge(204, &refused), JwtVerdict::Accepted(204));
        assert_eq!(judge(403, &refused), JwtVerdict::Refused(403));
        assert_eq!(judge(400, &refused), JwtVerdict::Other(400));
        assert_eq!(judge(400, &[400]), JwtVerdict::Refused(400));
    }
}
