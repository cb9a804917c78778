//! Conditions of the network, as Toxiproxy offers them: plain values a scenario applies to a
//! hop, in one direction, and removes again. A hop's sockets read the set on every operation,
//! so a toxic added or removed acts on the connections already open, as on a real link.
//!
//! Every delay is real time on real sockets: only the network is slow, never the simulated
//! clock, and a scenario never sleeps.

mod link;
mod proxy;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::Duration;

use tokio::time::Instant;

pub use link::Toxicated;
pub(crate) use link::{ToxicLink, linger};
pub use proxy::{DialFrom, ToxicProxy};

/// Which way the bytes a toxic acts on travel, seen from the side that opened the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Direction {
    /// From the dialling side to the server: what the DMS sends to the cloud, what the agent
    /// sends to the WAF.
    Upstream,
    /// From the server back to the dialling side.
    Downstream,
}

/// One condition of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Toxic {
    /// Every chunk waits `delay`, give or take up to `jitter`, before it passes.
    Latency { delay: Duration, jitter: Duration },
    /// At most this many bytes a second pass.
    Bandwidth { bytes_per_second: u64 },
    /// The end of the stream (a close) arrives `delay` late.
    SlowClose { delay: Duration },
    /// A black hole: nothing passes and nothing errors. With `close_after`, the connection
    /// ends that long after the toxic was applied; without, it stalls until the toxic goes.
    Timeout { close_after: Option<Duration> },
    /// The connection is reset (TCP RST) `after` the toxic was applied, or the connection
    /// opened, whichever is later: both sides see an error, nothing more passes.
    ResetPeer { after: Duration },
    /// Writes and reads are cut into pieces of at most `size` bytes, `delay` apart.
    Slicer { size: usize, delay: Duration },
    /// The connection ends once `bytes` have passed this way.
    LimitData { bytes: u64 },
}

/// Names one applied toxic, to remove it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ToxicId(u64);

#[derive(Debug, Clone, Copy)]
pub(crate) struct Applied {
    pub id: ToxicId,
    pub direction: Direction,
    pub toxic: Toxic,
    pub since: Instant,
}

#[derive(Debug, Default)]
struct Set {
    applied: Mutex<Vec<Applied>>,
    /// Operations parked on a socket, woken whenever the set changes so that a new toxic (a
    /// reset, a black hole) acts on them at once. One waker per flow, replaced, never piled.
    parked: Mutex<BTreeMap<u64, Waker>>,
    next_id: AtomicU64,
}

/// The toxics of one hop. Cheap to clone; every clone is the same set.
#[derive(Debug, Clone, Default)]
pub struct Toxics(Arc<Set>);

impl Toxics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies `toxic` to the bytes going `direction`, on open connections and new ones.
    pub fn add(&self, direction: Direction, toxic: Toxic) -> ToxicId {
        let id = ToxicId(self.0.next_id.fetch_add(1, Ordering::SeqCst));
        lock(&self.0.applied).push(Applied {
            id,
            direction,
            toxic,
            since: Instant::now(),
        });
        self.wake_all();
        id
    }

    /// Applies `toxic` both ways.
    pub fn add_both(&self, toxic: Toxic) -> [ToxicId; 2] {
        [
            self.add(Direction::Upstream, toxic),
            self.add(Direction::Downstream, toxic),
        ]
    }

    /// Takes one toxic off; the connections it held carry on (a reset connection stays reset).
    pub fn remove(&self, id: ToxicId) {
        lock(&self.0.applied).retain(|a| a.id != id);
        self.wake_all();
    }

    /// Takes every toxic off.
    pub fn clear(&self) {
        lock(&self.0.applied).clear();
        self.wake_all();
    }

    /// What is applied now, in the order it was.
    pub fn applied(&self) -> Vec<(Direction, Toxic)> {
        lock(&self.0.applied)
            .iter()
            .map(|a| (a.direction, a.toxic))
            .collect()
    }

    pub(crate) fn snapshot(&self, direction: Direction) -> Vec<Applied> {
        let applied = lock(&self.0.applied);
        if applied.is_empty() {
            return Vec::new();
        }
        applied
            .iter()
            .filter(|a| a.direction == direction)
            .copied()
            .collect()
    }

    pub(crate) fn flow_key(&self) -> u64 {
        self.0.next_id.fetch_add(1, Ordering::SeqCst)
    }

    pub(crate) fn park(&self, key: u64, waker: &Waker) {
        let mut parked = lock(&self.0.parked);
        match parked.get(&key) {
            Some(known) if known.will_wake(waker) => {}
            _ => {
                parked.insert(key, waker.clone());
            }
        }
    }

    pub(crate) fn unpark(&self, key: u64) {
        lock(&self.0.parked).remove(&key);
    }

    fn wake_all(&self) {
        let parked = std::mem::take(&mut *lock(&self.0.parked));
        parked.into_values().for_each(Waker::wake);
    }
}

/// The toxics of every destination of one traffic record, made on first use.
#[derive(Debug, Clone, Default)]
pub(crate) struct ToxicsByName(Arc<Mutex<BTreeMap<String, Toxics>>>);

impl ToxicsByName {
    pub fn get(&self, destination: &str) -> Toxics {
        lock(&self.0)
            .entry(destination.to_ascii_lowercase())
            .or_default()
            .clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
