//! What a probe found, as data: every verdict carries the answer that justifies it.

use std::fmt;
use std::net::SocketAddr;

use serde::Serialize;
use wire::tls::{ServerHello, Version, alert, alert_name, suite_name, version_name};

use super::Verdict;

#[derive(Debug, Clone, Serialize)]
pub struct TlsReport {
    /// The target as the user wrote it.
    pub target: String,
    /// The one address every connection went to.
    pub address: SocketAddr,
    pub sni: Option<String>,
    /// False when the answers show the endpoint does not speak TLS, or it never answered:
    /// then no verdict below is a finding about TLS. `premise` says which.
    pub speaks_tls: bool,
    pub premise: Premise,
    /// One entry per version, oldest first.
    pub versions: Vec<VersionResult>,
    /// One entry per suite tried alone at TLS 1.2; empty when TLS 1.2 was refused.
    pub tls12_suites: Vec<SuiteResult>,
    /// The chain a TLS 1.2 (or older) ServerHello was followed by, leaf first; TLS 1.3
    /// encrypts it, so a TLS 1.3-only server shows none.
    pub certificates: Vec<CertificateSummary>,
}

impl TlsReport {
    pub fn accepted_versions(&self) -> Vec<Version> {
        self.versions
            .iter()
            .filter(|v| v.accepted)
            .map(|v| v.version)
            .collect()
    }

    pub fn accepted_suites(&self) -> Vec<&SuiteResult> {
        self.tls12_suites.iter().filter(|s| s.accepted).collect()
    }

    /// The first bytes of the first answer that was not TLS, escaped: the evidence for a
    /// `Premise::NotTls`.
    pub fn not_tls_evidence(&self) -> Option<&str> {
        self.versions.iter().find_map(|v| match &v.answer {
            Answer::NotTls { first_bytes } => Some(first_bytes.as_str()),
            _ => None,
        })
    }
}

/// What the answers, taken together, say about the probe's premise that the endpoint speaks
/// TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Premise {
    /// Some attempt was answered in TLS (a ServerHello, an alert, TLS records), or every
    /// connection was closed before a ServerHello, which is a TLS server's way to refuse too.
    Tls,
    /// No attempt was answered in TLS, and at least one with bytes that are not TLS.
    NotTls,
    /// Every attempt ran out its read bound with nothing.
    NoAnswer,
}

impl Premise {
    pub fn of<'a>(verdicts: impl IntoIterator<Item = &'a Verdict>) -> Premise {
        let verdicts: Vec<&Verdict> = verdicts.into_iter().collect();
        if verdicts.iter().any(|v| v.was_tls()) {
            Premise::Tls
        } else if verdicts.iter().any(|v| matches!(v, Verdict::NotTls { .. })) {
            Premise::NotTls
        } else if !verdicts.is_empty() && verdicts.iter().all(|v| **v == Verdict::NoAnswer) {
            Premise::NoAnswer
        } else {
            Premise::Tls
        }
    }

    pub fn holds(self) -> bool {
        self == Premise::Tls
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VersionResult {
    pub version: Version,
    /// The server answered with a ServerHello choosing exactly this version.
    pub accepted: bool,
    pub answer: Answer,
    /// What the answer means; serialized as `"verdict"` and, for a refusal, `"form"`.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// What the server said to one ClientHello: the evidence behind a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    ServerHello {
        version: String,
        suite: String,
    },
    Alert {
        level: String,
        description: String,
    },
    /// The connection ended (EOF or reset) before the server said anything decisive.
    Closed,
    /// The server answered with bytes that are not TLS, shown escaped.
    NotTls {
        first_bytes: String,
    },
    /// Nothing decisive arrived before the timeout.
    TimedOut,
    /// TLS records arrived, but not ones a server may send first.
    Unreadable {
        reason: String,
    },
}

impl Answer {
    pub(crate) fn server_hello(hello: &ServerHello) -> Answer {
        Answer::ServerHello {
            version: version_name(hello.selected_version),
            suite: suite_name(hello.cipher_suite),
        }
    }

    pub(crate) fn alert(level: u8, description: u8) -> Answer {
        let description = match alert_name(description) {
            "unknown" => format!("unknown ({description})"),
            name => name.to_owned(),
        };
        Answer::Alert {
            level: alert::level_name(level).to_owned(),
            description,
        }
    }

    pub(crate) fn not_tls(first_bytes: &[u8]) -> Answer {
        Answer::NotTls {
            first_bytes: first_bytes.escape_ascii().to_string(),
        }
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::ServerHello { version, suite } => write!(f, "ServerHello {version}, {suite}"),
            Answer::Alert { level, description } => write!(f, "alert {level} {description}"),
            Answer::Closed => f.write_str("closed without an answer"),
            Answer::NotTls { first_bytes } => write!(f, "not TLS: \"{first_bytes}\""),
            Answer::TimedOut => f.write_str("no answer before the timeout"),
            Answer::Unreadable { reason } => write!(f, "unreadable answer: {reason}"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SuiteResult {
    pub code: u16,
    pub name: String,
    /// The server chose this suite at TLS 1.2 when it was the only one offered.
    pub accepted: bool,
    /// Ephemeral key exchange and an AEAD cipher: what a modern policy requires.
    pub forward_secret_aead: bool,
    /// What the answer to this suite alone means, as for a version.
    #[serde(flatten)]
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Serialize)]
pub struct CertificateSummary {
    pub subject: String,
    pub issuer: String,
    /// `DNS:name` and `IP:address` entries of subjectAltName.
    pub sans: Vec<String>,
    /// RFC 3339, UTC.
    pub not_before: String,
    pub not_after: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::Refusal;

    fn not_tls() -> Verdict {
        Verdict::NotTls {
            first_bytes: b"HTTP/1.1".to_vec(),
        }
    }

    #[test]
    fn the_premise_fails_only_when_no_answer_was_tls() {
        let closed = Verdict::Refused(Refusal::ClosedBeforeServerHello);
        let alert = Verdict::Refused(Refusal::ProtocolVersionAlert);
        assert_eq!(Premise::of(&[not_tls(), not_tls()]), Premise::NotTls);
        assert_eq!(
            Premise::of(&[not_tls(), Verdict::NoAnswer, closed.clone()]),
            Premise::NotTls
        );
        assert_eq!(
            Premise::of(&[Verdict::NoAnswer, Verdict::NoAnswer]),
            Premise::NoAnswer
        );
        assert_eq!(Premise::of(&[not_tls(), alert]), Premise::Tls);
        assert_eq!(
            Premise::of(&[closed.clone(), Verdict::NoAnswer]),
            Premise::Tls
        );
        assert_eq!(Premise::of(&[closed]), Premise::Tls);
    }
}
