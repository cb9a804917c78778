//! A network partition a scenario switches on and off. While it is on, the sockets behind it
//! neither send nor receive — nothing errors and nothing arrives, as when a link silently drops
//! every packet — and when it heals they carry on where they stood.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};

#[derive(Default)]
struct Link {
    cut: AtomicBool,
    /// Sockets waiting for the partition to heal.
    parked: Mutex<Vec<Waker>>,
    /// Sockets closed while the link was cut: they go (and the peer hears of it) on healing.
    closed: Mutex<Vec<Box<dyn Send>>>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("cut", &self.cut)
            .finish_non_exhaustive()
    }
}

/// The switch for one side's sockets. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Partition(Arc<Link>);

impl Partition {
    /// Cuts the link (`true`) or heals it (`false`).
    pub fn set(&self, cut: bool) {
        self.0.cut.store(cut, Ordering::SeqCst);
        if !cut {
            let parked = std::mem::take(&mut *self.parked());
            parked.into_iter().for_each(Waker::wake);
            drop(std::mem::take(&mut *lock(&self.0.closed)));
        }
    }

    /// Lets a closed socket go: at once, or when the partition heals.
    pub(crate) fn release(&self, socket: impl Send + 'static) {
        if self.is_cut() {
            lock(&self.0.closed).push(Box::new(socket));
            if !self.is_cut() {
                // Healed meanwhile: nothing else would let it go.
                drop(std::mem::take(&mut *lock(&self.0.closed)));
            }
        }
    }

    pub fn is_cut(&self) -> bool {
        self.0.cut.load(Ordering::SeqCst)
    }

    /// Whether a socket may carry bytes now; when not, it is woken once the partition heals.
    pub(crate) fn poll_pass(&self, cx: &Context<'_>) -> bool {
        if !self.is_cut() {
            return true;
        }
        self.parked().push(cx.waker().clone());
        // Healed between the check and the parking: the waker may never be called.
        !self.is_cut()
    }

    fn parked(&self) -> std::sync::MutexGuard<'_, Vec<Waker>> {
        lock(&self.0.parked)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
