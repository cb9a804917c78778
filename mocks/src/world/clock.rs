use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

/// The one source of time for every security decision in an environment.
///
/// Token lifetimes are a week; a test cannot wait a week. Components read `now()` and wake on
/// `changed()`; only a scenario moves time forward, with `advance`.
#[derive(Debug, Clone)]
pub struct Clock {
    now: Arc<watch::Sender<SystemTime>>,
    /// Seconds this view reads ahead of (or, negative, behind) the shared time: a machine's
    /// own clock that drifted from the world's, advancing with it.
    offset: i64,
}

impl Clock {
    pub fn starting_at(start: SystemTime) -> Self {
        Self {
            now: Arc::new(watch::Sender::new(start)),
            offset: 0,
        }
    }

    /// The same time as read by a machine whose clock is `seconds` off: it advances and wakes
    /// with this one.
    pub fn skewed(&self, seconds: i64) -> Self {
        Self {
            now: self.now.clone(),
            offset: self.offset + seconds,
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
        let shared = *self.now.borrow();
        let by = Duration::from_secs(self.offset.unsigned_abs());
        if self.offset >= 0 {
            shared + by
        } else {
            shared.checked_sub(by).unwrap_or(UNIX_EPOCH)
        }
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

/// A span of simulated time written by a person: `90s`, `15m`, `36h`, `7d`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpanError {
    /// The number is missing or not a whole number.
    #[error("\"{0}\" is not a span: a whole number followed by s, m, h or d (7d, 36h)")]
    Malformed(String),
    /// The unit is not one of s, m, h, d.
    #[error("\"{0}\" has no known unit: s, m, h or d")]
    Unit(String),
}

pub fn parse_span(text: &str) -> Result<Duration, SpanError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| SpanError::Unit(text.to_owned()))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| SpanError::Malformed(text.to_owned()))?;
    let seconds_per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(SpanError::Unit(text.to_owned())),
    };
    number
        .checked_mul(seconds_per)
        .map(Duration::from_secs)
        .ok_or_else(|| SpanError::Malformed(text.to_owned()))
}

/// Makes simulated time follow real time `speed` times over, for a live environment a person
/// watches. It moves time only through `advance` (the environment's, which waits for the
/// agent and the cloud to act), one `step` of real time at a time, so every component sees
/// the same ticks a scenario would give it. Time lost while an `advance` waited is made up on
/// the next step, measured on the monotonic clock: the simulated clock never falls behind.
pub async fn follow_real_time<F, Fut>(speed: f64, step: Duration, mut advance: F)
where
    F: FnMut(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut ticks = tokio::time::interval(step);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticks.tick().await;
    let mut last = Instant::now();
    loop {
        ticks.tick().await;
        let now = Instant::now();
        advance((now - last).mul_f64(speed)).await;
        last = now;
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

    #[test]
    fn a_skewed_clock_reads_off_by_its_offset_and_advances_with_the_world() {
        let world = Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_000));
        let (behind, ahead) = (world.skewed(-300), world.skewed(300));
        world.advance(Duration::from_secs(60));
        assert_eq!(behind.unix_seconds(), 760);
        assert_eq!(ahead.unix_seconds(), 1_360);
        ahead.advance(Duration::from_secs(40));
        assert_eq!(world.unix_seconds(), 1_100);
    }

    #[test]
    fn spans_read_in_the_units_a_reviewer_writes() {
        assert_eq!(parse_span("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_span("36h"), Ok(Duration::from_secs(129_600)));
        assert_eq!(parse_span("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_span("90s"), Ok(Duration::from_secs(90)));
        assert!(matches!(parse_span("7w"), Err(SpanError::Unit(_))));
        assert!(matches!(parse_span("7"), Err(SpanError::Unit(_))));
        assert!(matches!(parse_span("d"), Err(SpanError::Malformed(_))));
    }

    #[tokio::test]
    async fn following_real_time_advances_speed_times_the_real_time_that_passed() {
        let clock = Clock::starting_at(UNIX_EPOCH);
        let driven = clock.clone();
        let driver = tokio::spawn(async move {
            follow_real_time(3600.0, Duration::from_millis(50), |by| {
                driven.advance(by);
                std::future::ready(())
            })
            .await;
        });
        let real = std::time::Instant::now();
        tokio::time::sleep(Duration::from_millis(500)).await;
        driver.abort();
        let ceiling = real.elapsed().as_secs_f64() * 3600.0;
        let moved = clock.unix_seconds() as f64;
        // Never ahead of real time; behind by at most the last step and a loaded machine's lag.
        assert!(moved <= ceiling, "moved {moved} s, ceiling {ceiling} s");
        assert!(
            moved >= 0.2 * 3600.0,
            "moved only {moved} s in half a second"
        );
    }
}
