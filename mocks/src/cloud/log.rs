//! The cloud's operational log: what an operator of dataminer.services would read. It names
//! DMSs, accounts, token IDs and families, and never a token, a refresh key, a password or the
//! signing secret (fault `cloud.secret-in-logs` breaks the last). Each line is also kept in
//! the store's audit log, sealed.

use std::sync::Arc;

use super::store::{AuditRecord, Store};
use crate::world::{Clock, Observed};

/// Every line the cloud logged, in order, each prefixed with the environment's Unix time.
#[derive(Debug, Clone)]
pub struct CloudLog {
    lines: Observed<Vec<String>>,
    clock: Clock,
    store: Option<Arc<Store>>,
}

impl CloudLog {
    pub(crate) fn new(clock: Clock) -> Self {
        Self {
            lines: Observed::default(),
            clock,
            store: None,
        }
    }

    /// A log whose lines are kept in `store`'s audit log too.
    pub(crate) fn kept_in(clock: Clock, store: Arc<Store>) -> Self {
        Self {
            store: Some(store),
            ..Self::new(clock)
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
        let at = self.clock.unix_seconds();
        let line = format!("{at} {}", event.as_ref());
        if let Some(store) = &self.store
            && let Err(e) = store.put(&AuditRecord {
                at,
                line: line.clone(),
            })
        {
            // The operational log must not fail the operation it records.
            tracing::warn!("audit line not stored: {e}");
        }
        self.lines.update(|l| l.push(line));
    }
}
