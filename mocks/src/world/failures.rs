//! Failed attempts counted per key in a sliding window of simulated time: how a component
//! stops guessing (passwords, codes) without keeping anything once the window has passed.

use std::collections::HashMap;
use std::sync::Mutex;

/// Above this many keys, every failure recorded first drops the keys whose failures have all
/// left the window: a flood of made-up keys holds memory for one window at most.
const PRUNE_ABOVE: usize = 1024;

#[derive(Debug)]
pub struct FailureWindow {
    allowed: usize,
    window_seconds: u64,
    failed: Mutex<HashMap<String, Vec<u64>>>,
}

impl FailureWindow {
    /// `allowed` failures per key in any `window_seconds`.
    pub fn new(allowed: usize, window_seconds: u64) -> Self {
        Self {
            allowed,
            window_seconds,
            failed: Mutex::default(),
        }
    }

    /// Seconds until `key` may try again, when it has used up its failures; `None` when it
    /// may try now.
    pub fn wait(&self, key: &str, now: u64) -> Option<u64> {
        let mut failed = self.lock();
        let times = failed.get_mut(key)?;
        times.retain(|at| at + self.window_seconds > now);
        (times.len() >= self.allowed)
            .then(|| times.first().map_or(0, |at| at + self.window_seconds - now))
    }

    /// Counts a failure of `key` at `now`.
    pub fn failed(&self, key: &str, now: u64) {
        let mut failed = self.lock();
        if failed.len() > PRUNE_ABOVE {
            let window = self.window_seconds;
            failed.retain(|_, times| times.iter().any(|at| at + window > now));
        }
        failed.entry(key.to_owned()).or_default().push(now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<u64>>> {
        self.failed.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_waits_once_its_failures_fill_the_window_and_not_after() {
        let limit = FailureWindow::new(2, 100);
        assert_eq!(limit.wait("a", 0), None);
        limit.failed("a", 0);
        limit.failed("a", 10);
        assert_eq!(limit.wait("a", 20), Some(80));
        assert_eq!(limit.wait("b", 20), None);
        assert_eq!(
            limit.wait("a", 100),
            None,
            "the first failure left the window"
        );
    }

    #[test]
    fn keys_whose_failures_left_the_window_are_dropped() {
        let limit = FailureWindow::new(1, 10);
        for n in 0..=PRUNE_ABOVE {
            limit.failed(&format!("made-up-{n}"), 0);
        }
        limit.failed("late", 50);
        assert_eq!(limit.lock().len(), 1);
    }
}
