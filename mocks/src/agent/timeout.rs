//! How long the agent waits on the network before it gives up on an exchange or a tunnel
//! handshake. Network time, not a security decision: real time, never the environment's clock.
//!
//! The environment holds it too, so a scenario about a hanging cloud can shorten it for as long
//! as the cloud hangs, and only then: the same short bound on every exchange with a healthy
//! cloud would fail some of them on a loaded machine.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The agent's network timeout, shared: a change applies to the exchanges started after it.
#[derive(Debug, Clone)]
pub struct NetworkTimeout(Arc<AtomicU64>);

impl NetworkTimeout {
    pub fn new(timeout: Duration) -> Self {
        let shared = Self(Arc::default());
        shared.set(timeout);
        shared
    }

    pub fn get(&self) -> Duration {
        Duration::from_micros(self.0.load(Ordering::SeqCst))
    }

    pub fn set(&self, timeout: Duration) {
        let micros = u64::try_from(timeout.as_micros()).unwrap_or(u64::MAX);
        self.0.store(micros, Ordering::SeqCst);
    }
}
