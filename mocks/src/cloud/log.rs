//! The cloud's operational log: what an operator of dataminer.services would read. It names
//! DMSs, accounts, token IDs and families, and never a token, a refresh key, a password or the
//! signing secret (fault `cloud.secret-in-logs` breaks the last).

use crate::world::{Clock, Observed};

/// Every line the cloud logged, in order, each prefixed with the environment's Unix time.
#[derive(Debug, Clone)]
pub struct CloudLog {
    lines: Observed<Vec<String>>,
    clock: Clock,
}

impl CloudLog {
    pub(crate) fn new(clock: Clock) -> Self {
        Self {
            lines: Observed::default(),
            clock,
        }
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.read(Vec::clone)
    }

    /// Whether any line contains `needle`: the check a leak scenario makes for a secret.
    pub fn contains(&self, needle: &str) -> bool {
        !needle.is_empty()
            && self
                .lines
                .read(|l| l.iter().any(|line| line.contains(needle)))
    }

    pub(crate) fn info(&self, event: impl AsRef<str>) {
        let line = format!("{} {}", self.clock.unix_seconds(), event.as_ref());
        self.lines.update(|l| l.push(line));
    }
}
