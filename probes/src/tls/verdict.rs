//! What one answer means: accepted, refused in one of a few named forms, or neither because
//! the endpoint did not answer in TLS at all.

use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};
use wire::tls::{ServerHello, alert, alert_name};

/// The judgement on one ClientHello. Only `Refused` is a refusal: a timeout or bytes that are
/// not TLS say nothing about what a TLS server would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A ServerHello, with the version and suite the server chose (which a misbehaving server
    /// may pick from outside what was offered: the attempt's `accepted` flag says whether it
    /// chose exactly that).
    Accepted(ServerHello),
    /// The server said no, in one of the ways a TLS server says it.
    Refused(Refusal),
    /// The bytes that came back do not parse as TLS records (an HTTP answer, a record cut
    /// short); the first few of them are kept as evidence.
    NotTls { first_bytes: Vec<u8> },
    /// The read bound ran out and nothing had come back.
    NoAnswer,
    /// Complete TLS records, but not an answer a server may give to a ClientHello: a malformed
    /// ServerHello, application data first, a handshake message cut short.
    Unreadable { reason: String },
}

/// How a server refused a ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A `protocol_version` alert: the server does not speak the version offered.
    ProtocolVersionAlert,
    /// A `handshake_failure` alert: no acceptable set of parameters, typically no common suite.
    HandshakeFailureAlert,
    /// Any other alert, by its description code (`insufficient_security`, `unrecognized_name`,
    /// `close_notify`, ...).
    Alert(u8),
    /// The connection closed (FIN or RST) before any ServerHello, and before any byte that
    /// could be judged otherwise.
    ClosedBeforeServerHello,
}

impl Refusal {
    /// The refusal an alert with this description makes.
    pub fn from_alert(description: u8) -> Refusal {
        match description {
            alert::PROTOCOL_VERSION => Refusal::ProtocolVersionAlert,
            alert::HANDSHAKE_FAILURE => Refusal::HandshakeFailureAlert,
            other => Refusal::Alert(other),
        }
    }

    /// The machine-readable form: `protocol_version_alert`, `handshake_failure_alert`,
    /// `alert:<name>` (`alert:<code>` for an unassigned one), `closed_before_server_hello`.
    pub fn form(&self) -> String {
        match self {
            Refusal::ProtocolVersionAlert => "protocol_version_alert".to_owned(),
            Refusal::HandshakeFailureAlert => "handshake_failure_alert".to_owned(),
            Refusal::Alert(code) => match alert_name(*code) {
                "unknown" => format!("alert:{code}"),
                name => format!("alert:{name}"),
            },
            Refusal::ClosedBeforeServerHello => "closed_before_server_hello".to_owned(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.form())
    }
}

impl Verdict {
    /// The machine-readable name: `accepted`, `refused`, `not_tls`, `no_answer`, `unreadable`.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Accepted(_) => "accepted",
            Verdict::Refused(_) => "refused",
            Verdict::NotTls { .. } => "not_tls",
            Verdict::NoAnswer => "no_answer",
            Verdict::Unreadable { .. } => "unreadable",
        }
    }

    /// The refusal, when this is one.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            Verdict::Refused(refusal) => Some(*refusal),
            _ => None,
        }
    }

    pub fn is_refusal(&self) -> bool {
        self.refusal().is_some()
    }

    /// The ServerHello, when the server sent one.
    pub fn server_hello(&self) -> Option<&ServerHello> {
        match self {
            Verdict::Accepted(hello) => Some(hello),
            _ => None,
        }
    }

    /// Whether the answer was TLS from a server: a ServerHello, an alert, or records it could
    /// not read. A closed connection proves nothing either way.
    pub(crate) fn was_tls(&self) -> bool {
        match self {
            Verdict::Accepted(_) | Verdict::Unreadable { .. } => true,
            Verdict::Refused(refusal) => *refusal != Refusal::ClosedBeforeServerHello,
            Verdict::NotTls { .. } | Verdict::NoAnswer => false,
        }
    }
}

/// `"verdict"`, plus `"form"` for a refusal: the two fields an attempt's JSON gains. The
/// evidence (version, suite, alert, bytes) is the attempt's `answer`.
impl Serialize for Verdict {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let refusal = self.refusal();
        let mut map = serializer.serialize_map(Some(1 + usize::from(refusal.is_some())))?;
        map.serialize_entry("verdict", self.name())?;
        if let Some(refusal) = refusal {
            map.serialize_entry("form", &refusal.form())?;
        }
        map.end()
    }
}
