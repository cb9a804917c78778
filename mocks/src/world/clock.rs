use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

/// The one source of time for every security decision in an environment.
///
/// Token lifetimes are a week; a test cannot wait a week. Components read `now()` and wake on
/// `changed()`; only a scenario moves time forward, with `advance`.
#[derive(Debug, Clone)]
pub struct Clock {
    now: Arc<watch::Sender<SystemTime>>,
}

impl Clock {
    pub fn starting_at(start: SystemTime) -> Self {
        Self {
            now: Arc::new(watch::Sender::new(start)),
        }
    }

    /// Starts at the wall clock's current second, so certificates made for "now" are valid.
    pub fn from_wall_clock() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        Self::starting_at(UNIX_EPOCH + Duration::from_secs(secs))
    }

    pub fn now(&self) -> SystemTime {
        *self.now.borrow()
    }

    pub fn unix_seconds(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default()
    }

    pub fn advance(&self, by: Duration) {
        self.now.send_modify(|now| *now += by);
    }

    /// A receiver that is marked changed each time the clock advances.
    pub fn watch(&self) -> watch::Receiver<SystemTime> {
        self.now.subscribe()
    }
}

/// TLS peers of the environment judge certificate validity on simulated time too.
impl rustls::time_provider::TimeProvider for Clock {
    fn current_time(&self) -> Option<rustls::pki_types::UnixTime> {
        Some(rustls::pki_types::UnixTime::since_unix_epoch(
            Duration::from_secs(self.unix_seconds()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn advancing_wakes_watchers_and_moves_now() {
        let clock = Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_000));
        let mut rx = clock.watch();
        clock.advance(Duration::from_secs(604_800));
        rx.changed().await.expect("clock alive");
        assert_eq!(clock.unix_seconds(), 605_800);
    }
}
