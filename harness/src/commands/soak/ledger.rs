//! Every request of the soak, counted per share when it is sent and again when its fate is
//! known: answered right, crossed from another DMS, answered wrong, or lost (no answer within
//! the bound, or the connection broke). Requests sent minus the other four is what is still
//! in flight; after the viewers have ended it must be zero.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

use super::oracle::Verdict;

/// Failures kept word for word; the rest are only counted.
const KEPT_FAILURES: usize = 20;

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    right: AtomicU64,
    crossed: AtomicU64,
    wrong: AtomicU64,
    lost: AtomicU64,
}

/// Counts of requests, all shares together or of one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub sent: u64,
    /// Answered with the asked-for name of the DMS the request went to.
    pub right: u64,
    /// Answered with another DMS's data.
    pub crossed: u64,
    /// Answered, but with an error status or without the asked-for name.
    pub wrong: u64,
    /// Never answered: the bound ran out or the connection broke.
    pub lost: u64,
}

impl Counts {
    /// Answers of any kind that came back.
    pub fn received(&self) -> u64 {
        self.right + self.crossed + self.wrong
    }

    /// Sent and not yet judged.
    pub fn in_flight(&self) -> u64 {
        self.sent.saturating_sub(self.received() + self.lost)
    }

    /// Every request sent came back right.
    pub fn accounted(&self) -> bool {
        self.sent == self.right && self.in_flight() == 0
    }

    fn add(&mut self, other: Counts) {
        self.sent += other.sent;
        self.right += other.right;
        self.crossed += other.crossed;
        self.wrong += other.wrong;
        self.lost += other.lost;
    }
}

#[derive(Debug)]
pub struct Ledger {
    shares: Vec<Counters>,
    latencies: Mutex<Vec<Duration>>,
    failures: Mutex<Vec<String>>,
}

impl Ledger {
    pub fn new(shares: usize) -> Self {
        Self {
            shares: (0..shares).map(|_| Counters::default()).collect(),
            latencies: Mutex::default(),
            failures: Mutex::default(),
        }
    }

    pub fn sent(&self, share: usize) {
        if let Some(c) = self.shares.get(share) {
            c.sent.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// An answer came back after `took`; `what` names the request for a failure's line.
    pub fn answered(
        &self,
        share: usize,
        took: Duration,
        verdict: Verdict,
        what: impl FnOnce() -> String,
    ) {
        let Some(c) = self.shares.get(share) else {
            return;
        };
        self.latencies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(took);
        match verdict {
            Verdict::Right => c.right.fetch_add(1, Ordering::Relaxed),
            Verdict::Crossed { from } => {
                self.keep(format!("{}: crossed, carries {from}'s data", what()));
                c.crossed.fetch_add(1, Ordering::Relaxed)
            }
            Verdict::Wrong(why) => {
                self.keep(format!("{}: {why}", what()));
                c.wrong.fetch_add(1, Ordering::Relaxed)
            }
        };
    }

    pub fn lost(&self, share: usize, why: String) {
        if let Some(c) = self.shares.get(share) {
            self.keep(why);
            c.lost.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn keep(&self, failure: String) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() < KEPT_FAILURES {
            failures.push(failure);
        }
    }

    pub fn per_share(&self) -> Vec<Counts> {
        self.shares
            .iter()
            .map(|c| Counts {
                sent: c.sent.load(Ordering::Relaxed),
                right: c.right.load(Ordering::Relaxed),
                crossed: c.crossed.load(Ordering::Relaxed),
                wrong: c.wrong.load(Ordering::Relaxed),
                lost: c.lost.load(Ordering::Relaxed),
            })
            .collect()
    }

    pub fn total(&self) -> Counts {
        let mut total = Counts::default();
        for counts in self.per_share() {
            total.add(counts);
        }
        total
    }

    pub fn latencies(&self) -> Vec<Duration> {
        self.latencies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The first failures, word for word.
    pub fn failures(&self) -> Vec<String> {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_still_in_flight_or_lost_leaves_the_soak_unaccounted() {
        let ledger = Ledger::new(2);
        ledger.sent(0);
        ledger.sent(1);
        ledger.answered(0, Duration::ZERO, Verdict::Right, String::new);
        assert_eq!(ledger.total().in_flight(), 1);
        assert!(!ledger.total().accounted());
        ledger.lost(1, "gone".into());
        assert!(!ledger.total().accounted());
        assert_eq!(ledger.failures(), vec!["gone".to_owned()]);
    }

    #[test]
    fn every_request_answered_right_is_accounted() {
        let ledger = Ledger::new(1);
        for _ in 0..3 {
            ledger.sent(0);
            ledger.answered(0, Duration::ZERO, Verdict::Right, String::new);
        }
        let total = ledger.total();
        assert_eq!((total.sent, total.right, total.received()), (3, 3, 3));
        assert!(total.accounted());
    }
}
