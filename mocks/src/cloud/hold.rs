//! A hold on the answers to the refresh grant, so a scenario can catch a DMS in the middle of
//! its renewal: the cloud has spent the refresh key and issued the family's next token, and
//! the answer waits until the scenario releases it. Like an outage, not a fault: a slow answer
//! is something the DMS must live through.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct AnswerHold(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// `true` while answers pass; `false` while they are held.
    open: watch::Sender<bool>,
    held: AtomicUsize,
}

impl Default for AnswerHold {
    fn default() -> Self {
        Self(Arc::new(Inner {
            open: watch::Sender::new(true),
            held: AtomicUsize::new(0),
        }))
    }
}

impl AnswerHold {
    /// From now on, each answer waits until `release`.
    pub fn arm(&self) {
        self.0.open.send_replace(false);
    }

    /// Lets every held answer go, and the next ones pass.
    pub fn release(&self) {
        self.0.open.send_replace(true);
    }

    /// How many answers have been held since the cloud started.
    pub fn held(&self) -> usize {
        self.0.held.load(Ordering::SeqCst)
    }

    /// Waits, while the hold is armed, for its release.
    pub(crate) async fn pass(&self) {
        let mut open = self.0.open.subscribe();
        if *open.borrow_and_update() {
            return;
        }
        self.0.held.fetch_add(1, Ordering::SeqCst);
        let _ = open.wait_for(|open| *open).await;
    }
}
