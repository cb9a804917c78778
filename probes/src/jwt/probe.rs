//! The forgery battery sent to any endpoint that takes a bearer token, judged by the status
//! codes the user names: `conform probe jwt`.

use std::net::SocketAddr;

use serde::Serialize;

use super::attacks::without_secret;

/// How to reach the endpoint and how to read its answers.
#[derive(Debug, Clone)]
pub struct JwtProbeOptions {
    /// Statuses that mean "refused" (default 401 and 403). Any 2xx means accepted.
    pub refused: Vec<u16>,
    /// Roots to trust instead of the system's, PEM.
    pub ca_pem: Option<Vec<u8>>,
    /// Names to resolve to these addresses, as curl's `--resolve`.
    pub resolve: Vec<(String, SocketAddr)>,
}

impl Default for JwtProbeOptions {
    fn default() -> Self {
        Self {
            refused: vec![401, 403],
            ca_pem: None,
            resolve: Vec::new(),
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
}

impl JwtReport {
    pub fn accepted(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| matches!(c.verdict, JwtVerdict::Accepted(_)))
            .count()
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

    let mut cases = Vec::new();
    for attack in without_secret(token, &public_key) {
        let verdict = match http.get(url).bearer_auth(&attack.token).send().await {
            Ok(answer) => judge(answer.status().as_u16(), &options.refused),
            Err(error) => JwtVerdict::NoAnswer(error.to_string()),
        };
        cases.push(JwtCase {
            name: attack.name,
            verdict,
        });
    }
    Ok(JwtReport {
        url: url.to_owned(),
        baseline_status,
        cases,
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
