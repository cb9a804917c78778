//! The call file: one request the WAF lets through, and how its answers read.
//!
//! ```json
//! {"method": "GetParameter",
//!  "body": {"connection": "…", "dmaID": 2000, "elementID": 100, "parameterID": 1001},
//!  "headers": {"X-Extra": "…"},
//!  "allowed": [200], "blocked": [403]}
//! ```
//! `path` defaults to `/API/v1/Json.asmx/{method}`. With neither `allowed` nor `blocked`, a
//! 2xx is allowed and anything else blocked; with one of them, everything it does not list is
//! the other (`"blocked": [403]`: whatever the WAF passed on is allowed, even an error the
//! server behind it answered); with both, a status on neither list is "other". The body's
//! `connection` is the session the mutations keep.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallFile {
    /// The DataMiner API method the call names.
    pub method: String,
    /// The request target, if not `/API/v1/Json.asmx/{method}`.
    #[serde(default)]
    pub path: Option<String>,
    /// The JSON body, members in the order they are sent.
    pub body: Map<String, Value>,
    /// Headers sent with every request besides Host, Content-Type and Content-Length.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Statuses that mean "let through".
    #[serde(default)]
    pub allowed: Vec<u16>,
    /// Statuses that mean "blocked".
    #[serde(default)]
    pub blocked: Vec<u16>,
}

/// The call file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CallFileError {
    #[error("cannot read the call file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the call file {path} is not a call: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    /// A mutation needs the session to keep or swap.
    #[error("the call's body has no string \"connection\"")]
    NoConnection,
}

impl CallFile {
    pub fn read(path: &Path) -> Result<Self, CallFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| CallFileError::Read {
            path: shown.clone(),
            source,
        })?;
        let call: Self = serde_json::from_str(&text).map_err(|source| CallFileError::Parse {
            path: shown,
            source,
        })?;
        call.connection()?;
        Ok(call)
    }

    pub fn connection(&self) -> Result<&str, CallFileError> {
        self.body
            .get("connection")
            .and_then(Value::as_str)
            .ok_or(CallFileError::NoConnection)
    }

    /// Whether an answer with `status` was let through; `None` when it is neither allowed nor
    /// blocked as the file reads them.
    pub fn judge(&self, status: u16) -> Option<bool> {
        match (self.allowed.is_empty(), self.blocked.is_empty()) {
            (true, true) => Some((200..300).contains(&status)),
            (true, false) => Some(!self.blocked.contains(&status)),
            (false, true) => Some(self.allowed.contains(&status)),
            (false, false) if self.allowed.contains(&status) => Some(true),
            (false, false) => self.blocked.contains(&status).then_some(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_as_the_file_says_or_2xx_against_the_rest() {
        let mut call: CallFile =
            serde_json::from_str(r#"{"method":"GetElement","body":{"connection":"c"}}"#)
                .expect("a call");
        assert_eq!(call.judge(200), Some(true));
        assert_eq!(call.judge(403), Some(false));
        call.blocked = vec![403];
        assert_eq!(call.judge(500), Some(true));
        call.allowed = vec![200];
        call.blocked = vec![403];
        assert_eq!(call.judge(204), None);
        assert_eq!(call.judge(403), Some(false));
    }
}
