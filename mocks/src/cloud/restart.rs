//! The cloud's processes end and start again over the same persistent state: what it stored
//! (accounts, registrations, token families and refresh keys, shares and links, the vault's
//! signing key) survives and is what it serves from when it is back (`rebuild`); its
//! listeners, the connections they accepted and its in-memory tunnel table do not.

use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::world::{Fault, FaultSet, Lifetime};

/// The tasks of the cloud's current run, inside the environment's lifetime.
#[derive(Debug, Clone)]
pub(crate) struct Runs {
    outer: Lifetime,
    current: Arc<Mutex<Lifetime>>,
}

impl Runs {
    pub fn within(outer: &Lifetime) -> Self {
        Self {
            outer: outer.clone(),
            current: Arc::new(Mutex::new(outer.child())),
        }
    }

    /// Runs `task` until it ends, the cloud restarts or the environment stops.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        lock(&self.current).spawn(task);
    }

    /// Ends the current run's tasks and waits for them (their sockets closed, their ports free);
    /// what is spawned from then on belongs to the next run.
    pub async fn end_run(&self) {
        let ended = std::mem::replace(&mut *lock(&self.current), self.outer.child());
        ended.stop().await;
    }
}

/// Where the cloud keeps what must outlive a restart, as a deployment chose it, and what it
/// rebuilds from the store when it comes back (`rebuild`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Persistence {
    /// Token families are in the store; otherwise in the token service's memory.
    pub families_stored: bool,
    /// The shares and their links are rebuilt from the store; otherwise
    /// (`cloud.restore-keeps-link-table`) the in-memory table stays as it was.
    pub shares_rebuilt: bool,
    /// The DMS registrations and the token service are rebuilt from the store; otherwise
    /// (`cloud.restore-keeps-connect-tables`) they keep what they held in memory.
    pub connect_rebuilt: bool,
    /// A family's revocation is read back with it; otherwise
    /// (`cloud.restore-forgets-revocations`) every family comes back live.
    pub revocations_rebuilt: bool,
}

impl Persistence {
    pub fn from_faults(faults: &FaultSet) -> Self {
        Self {
            families_stored: !faults.is_on(Fault::CloudForgetTunnelsOnRestart),
            shares_rebuilt: !faults.is_on(Fault::CloudRestoreKeepsLinkTable),
            connect_rebuilt: !faults.is_on(Fault::CloudRestoreKeepsConnectTables),
            revocations_rebuilt: !faults.is_on(Fault::CloudRestoreForgetsRevocations),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
