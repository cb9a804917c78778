use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

/// A record that components append to and scenarios read and wait on.
///
/// Waiting is on change notifications, never on elapsed time; the real-time bound only turns a
/// hang into a clear failure.
#[derive(Debug)]
pub struct Observed<T> {
    value: Arc<Mutex<T>>,
    version: Arc<watch::Sender<u64>>,
}

impl<T> Clone for Observed<T> {
    fn clone(&self) -> Self {
        Self {
            value: self.value.clone(),
            version: self.version.clone(),
        }
    }
}

impl<T: Default> Default for Observed<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> Observed<T> {
    pub fn new(value: T) -> Self {
        Self {
            value: Arc::new(Mutex::new(value)),
            version: Arc::new(watch::Sender::new(0)),
        }
    }

    pub fn update<R>(&self, change: impl FnOnce(&mut T) -> R) -> R {
        let result = change(&mut self.lock());
        self.version.send_modify(|v| *v += 1);
        result
    }

    pub fn read<R>(&self, look: impl FnOnce(&T) -> R) -> R {
        look(&self.lock())
    }

    /// Waits until `ready` holds, re-checking on every update. `None` when `bound` passed first.
    pub async fn wait_for<R>(&self, bound: Duration, ready: impl Fn(&T) -> Option<R>) -> Option<R> {
        let mut version = self.version.subscribe();
        let wait = async {
            loop {
                version.borrow_and_update();
                if let Some(found) = self.read(&ready) {
                    return found;
                }
                if version.changed().await.is_err() {
                    // The sender lives as long as `self`: this cannot end, but must not spin.
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(bound, wait).await.ok()
    }

    fn lock(&self) -> MutexGuard<'_, T> {
        // A panic while holding the lock leaves a record, not a broken invariant: keep reading.
        self.value
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
