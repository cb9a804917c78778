//! The cloud's clock as the agent estimates it: its own clock, corrected by how far the `Date`
//! of the cloud's answers was from it. What the agent signs for the cloud (the `iat` and `exp`
//! of a client assertion) is stamped on this estimate, so a DMS whose clock drifted by
//! minutes still lands within the cloud's few seconds of allowance.

use std::sync::Mutex;

/// A correction smaller than this is the `Date`'s one-second resolution and the answer's time
/// in flight, not a drift.
const NOISE_SECS: i64 = 5;

#[derive(Debug, Default)]
pub(super) struct CloudTime {
    /// Seconds to add to the DMS's clock to read the cloud's.
    offset: Mutex<i64>,
}

impl CloudTime {
    /// The cloud's time when the DMS's clock reads `local`.
    pub fn at(&self, local: u64) -> u64 {
        local.saturating_add_signed(*lock(&self.offset))
    }

    /// Takes in the cloud's `date` of an answer received at `local`; true when it moved the
    /// estimate by more than noise.
    pub fn learn(&self, date: Option<u64>, local: u64) -> bool {
        let Some(date) = date else {
            return false;
        };
        let (Ok(date), Ok(local)) = (i64::try_from(date), i64::try_from(local)) else {
            return false;
        };
        let seen = date - local;
        let mut offset = lock(&self.offset);
        let moved = (seen - *offset).abs() > NOISE_SECS;
        if moved {
            *offset = seen;
        }
        moved
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drift_beyond_noise_is_corrected_and_noise_is_not() {
        let time = CloudTime::default();
        assert_eq!(time.at(1_000), 1_000);
        assert!(!time.learn(Some(1_003), 1_000));
        assert_eq!(time.at(1_000), 1_000);
        assert!(time.learn(Some(700), 1_000));
        assert_eq!(time.at(2_000), 1_700);
        assert!(!time.learn(None, 2_000));
        assert!(time.learn(Some(2_300), 2_000));
        assert_eq!(time.at(2_000), 2_300);
    }
}
