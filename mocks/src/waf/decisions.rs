use crate::world::Observed;

/// What the WAF did with a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Verdict {
    Allowed,
    Blocked,
}

/// One decision, with the reason a reviewer reads in the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Decision {
    pub path: String,
    pub verdict: Verdict,
    pub reason: String,
    /// The share whose connection (or login) the request carried, if any.
    pub share: Option<String>,
    pub at_unix: u64,
}

/// Every decision the WAF made, in order.
#[derive(Debug, Clone, Default)]
pub struct Decisions(Observed<Vec<Decision>>);

impl Decisions {
    pub fn all(&self) -> Vec<Decision> {
        self.0.read(Vec::clone)
    }

    pub(crate) fn record(&self, decision: Decision) {
        self.0.update(|log| log.push(decision));
    }
}
