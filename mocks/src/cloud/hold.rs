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

/// Where a redemption that reads a single-use secret and writes it back later (the faulty
/// check-then-spend paths) waits between its check and its spend: once a scenario expects `n`
/// redemptions, each waits until `n` have checked, so the race the fault opens is taken every
/// time, without real time. Unarmed, the store round trip takes no time at all.
#[derive(Debug, Clone)]
pub struct Rendezvous(Arc<Meeting>);

#[derive(Debug)]
struct Meeting {
    expected: AtomicUsize,
    checked: watch::Sender<usize>,
}

impl Default for Rendezvous {
    fn default() -> Self {
        Self(Arc::new(Meeting {
            expected: AtomicUsize::new(0),
            checked: watch::Sender::new(0),
        }))
    }
}

impl Rendezvous {
    /// From now on, a check-then-spend redemption waits after its check until `n` have checked.
    pub fn expect(&self, n: usize) {
        self.0.checked.send_replace(0);
        self.0.expected.store(n, Ordering::SeqCst);
    }

    /// Lets every waiting redemption go, and the next ones pass.
    pub fn clear(&self) {
        self.0.expected.store(0, Ordering::SeqCst);
        self.0.checked.send_replace(usize::MAX);
    }

    /// Called between a check and its spend.
    pub(crate) async fn meet(&self) {
        let expected = self.0.expected.load(Ordering::SeqCst);
        if expected == 0 {
            return;
        }
        let mut checked = self.0.checked.subscribe();
        self.0.checked.send_modify(|n| *n = n.saturating_add(1));
        let _ = checked.wait_for(|n| *n >= expected).await;
    }
}
