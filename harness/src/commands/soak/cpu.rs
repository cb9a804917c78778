//! This process's CPU as the kernel's scheduler counts it, per thread: the time its threads ran
//! and the time they were ready to run but waited for a CPU (`/proc/self/task/*/schedstat`).
//! The soak reports both for its load: a pace that is low while the threads wait for a CPU is
//! the machine's (other processes on the same cores), one that is low while they sleep is a
//! queue on the path. The process's own CPU time alone does not tell the two apart: on a
//! shared machine it is low in both cases.

use std::time::Duration;

/// What every thread of this process had had of the CPU, summed, at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scheduled {
    /// Time on a CPU.
    pub ran: Duration,
    /// Time ready to run and waiting in a run queue.
    pub waited: Duration,
    /// Threads counted.
    pub threads: usize,
}

impl Scheduled {
    /// This process's threads now; `None` where the kernel keeps no schedstat (not Linux, or
    /// built without it).
    pub fn now() -> Option<Self> {
        let mut total = Self::default();
        for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
            // A thread that ended between the listing and the read counts for nothing.
            let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) else {
                continue;
            };
            let (ran, waited) = parse(&text)?;
            total.ran += ran;
            total.waited += waited;
            total.threads += 1;
        }
        (total.threads > 0).then_some(total)
    }

    /// What happened between `earlier` and this reading. Threads that ended in between take
    /// their time with them, so this is at least what the threads alive now did.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            ran: self.ran.saturating_sub(earlier.ran),
            waited: self.waited.saturating_sub(earlier.waited),
            threads: self.threads,
        }
    }
}

/// `schedstat`'s first two fields: nanoseconds on a CPU, nanoseconds waiting in a run queue.
fn parse(text: &str) -> Option<(Duration, Duration)> {
    let mut fields = text.split_whitespace().map(str::parse::<u64>);
    let ran = fields.next()?.ok()?;
    let waited = fields.next()?.ok()?;
    Some((Duration::from_nanos(ran), Duration::from_nanos(waited)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedstat_reads_as_time_run_then_time_waited() {
        assert_eq!(
            parse("4970000000 14950000000 1234\n"),
            Some((Duration::from_millis(4970), Duration::from_millis(14950)))
        );
        assert_eq!(parse(""), None);
        assert_eq!(parse("12 x 3"), None);
    }

    #[test]
    fn this_process_has_run() {
        let Some(now) = Scheduled::now() else {
            return; // no schedstat on this kernel: the soak reports no CPU figures
        };
        assert!(now.threads >= 1);
        assert!(now.ran > Duration::ZERO);
        let later = Scheduled::now().expect("read once, read again");
        assert!(later.since(&now).ran <= later.ran);
    }
}
