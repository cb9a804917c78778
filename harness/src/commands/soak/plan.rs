//! What a soak is asked to do, checked before anything starts: a mistake in the arguments, or
//! a machine that cannot hold that many sockets, is one line and exit 2, not a half-run.

use std::path::PathBuf;
use std::time::Duration;

use crate::UsageError;
use crate::cli::{SoakArgs, Through};

/// Sockets this process holds besides the tunnels and viewers: listeners, the agents' and the
/// setup's own connections, the light agents' pipes.
const SPARE_SOCKETS: u64 = 256;
/// Sockets each share's DMS holds in this process: its listeners, its agent's tunnels (both
/// ends), and the WAF's and the DMA's connections.
const SOCKETS_PER_SHARE: u64 = 12;

/// A checked soak.
#[derive(Debug, Clone)]
pub struct Plan {
    pub agents: usize,
    pub viewers: usize,
    pub shares: usize,
    pub duration: Duration,
    pub through: Through,
    pub json: bool,
    pub report_dir: PathBuf,
}

impl Plan {
    pub fn from_args(args: SoakArgs) -> Result<Self, UsageError> {
        let duration = parse_duration(&args.duration)?;
        if args.shares == 0 {
            return Err(UsageError("--shares must be at least 1".into()));
        }
        if args.viewers < args.shares {
            return Err(UsageError(format!(
                "--viewers ({}) must be at least --shares ({}), so that every share is viewed",
                args.viewers, args.shares
            )));
        }
        let plan = Self {
            agents: args.agents,
            viewers: args.viewers,
            shares: args.shares,
            duration,
            through: args.through,
            json: args.json,
            report_dir: args.report_dir,
        };
        plan.fits_open_files(open_files_limit())?;
        Ok(plan)
    }

    /// Sockets the cloud's process needs at the peak: one cloud end per idle tunnel, both
    /// ends of every viewer's connection, and each share's DMS.
    fn sockets(&self) -> u64 {
        self.agents as u64
            + 2 * self.viewers as u64
            + SOCKETS_PER_SHARE * self.shares as u64
            + SPARE_SOCKETS
    }

    fn fits_open_files(&self, limit: Option<u64>) -> Result<(), UsageError> {
        match limit {
            Some(limit) if self.sockets() > limit => Err(UsageError(format!(
                "{} agents, {} viewers and {} shares need about {} open files; this process may open {limit} (ulimit -n)",
                self.agents,
                self.viewers,
                self.shares,
                self.sockets()
            ))),
            _ => Ok(()),
        }
    }
}

/// `30s`, `2m`, `1500ms`, `1h`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, UsageError> {
    let bad = || {
        UsageError(format!(
            "--duration {text:?} is not a duration (examples: 30s, 2m, 1500ms)"
        ))
    };
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let duration = match unit {
        "ms" => Duration::from_millis(number),
        "" | "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.checked_mul(60).ok_or_else(bad)?),
        "h" => Duration::from_secs(number.checked_mul(3600).ok_or_else(bad)?),
        _ => return Err(bad()),
    };
    if duration.is_zero() {
        return Err(UsageError("--duration must be more than zero".into()));
    }
    Ok(duration)
}

/// The soft limit on open files, from `/proc/self/limits`; `None` when it cannot be read or
/// is unlimited.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(agents: usize, viewers: usize, shares: usize) -> Plan {
        Plan {
            agents,
            viewers,
            shares,
            duration: Duration::from_secs(1),
            through: Through::Recipients,
            json: false,
            report_dir: PathBuf::new(),
        }
    }

    #[test]
    fn durations_read_in_the_units_people_write() {
        assert_eq!(parse_duration("3s").ok(), Some(Duration::from_secs(3)));
        assert_eq!(parse_duration("2m").ok(), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_duration("1500ms").ok(),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_duration("45").ok(), Some(Duration::from_secs(45)));
        for bad in ["", "s", "3x", "-1s", "1.5s", "0s", "99999999999999999999h"] {
            assert!(
                parse_duration(bad).is_err(),
                "{bad:?} was read as a duration"
            );
        }
    }

    #[test]
    fn a_soak_that_needs_more_sockets_than_the_limit_is_refused_before_it_starts() {
        assert!(plan(1000, 200, 50).fits_open_files(Some(20_000)).is_ok());
        assert!(plan(1000, 200, 50).fits_open_files(Some(1024)).is_err());
        assert!(plan(1000, 200, 50).fits_open_files(None).is_ok());
    }
}
