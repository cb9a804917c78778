//! The bound on device grants in all (DOS-1). A device authorization needs no account, only a
//! self-made key, and every address is a source: the bound per source stops one machine, not a
//! flood spread over many. So the cloud holds at most `limit` grants, and a new one past it
//! pushes out a grant that serves nobody (expired, denied or redeemed) if there is one, else the
//! oldest grant of the source that holds the most. A flood spread over many addresses then
//! pushes out its own grants, and a DMS waiting with its single grant keeps it: to reach it, a
//! flood must hold the whole table at one grant per address, from `limit` addresses, and then
//! the waiting grant still outlasts `limit` newer ones (the deployment scales `limit` with its
//! fleet for that reason).
//!
//! Choosing takes two passes over the table, which holds at most `limit` grants: the same
//! order of work as the per-source count every authorization already makes, and nothing an
//! attacker can grow.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::net::IpAddr;

/// The most grants the cloud holds at once, whatever their sources: far above the grants a
/// fleet's DMSs start within a code's 15 minutes, far below what fills memory (and it keeps
/// the user-code space sparse, RFC 8628 §5.1).
pub(super) const OPEN_GRANTS_IN_ALL: usize = 512;

/// The bound in all and what a new grant does when the table is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GrantBound {
    pub limit: usize,
    pub when_full: WhenFull,
}

/// What a new device authorization does when the cloud holds `limit` grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WhenFull {
    /// A grant that serves nobody goes, else the oldest of the source holding the most.
    PushOutTheBusiest,
    /// The oldest grant goes, whoever asked for it (`cloud.device-grants-push-out-the-oldest`):
    /// a flood pushes out the DMS that waits longest for its approver.
    PushOutTheOldest,
    /// The new authorization is refused (`cloud.device-grants-refused-when-full`): a flood
    /// that fills the table locks every DMS out of the connect flow.
    Refuse,
}

/// What the cloud knows of one grant it holds, for choosing which goes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Held<'a> {
    pub device_code: &'a str,
    pub origin: Option<IpAddr>,
    /// The order the cloud issued it in: lower is older.
    pub issued: u64,
    /// Still waiting for approval or redemption.
    pub open: bool,
}

/// What one more grant needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Room {
    /// The table has room.
    Free,
    /// The grant of this device code goes first.
    PushOut(String),
    /// The new authorization is refused.
    Refused,
}

impl GrantBound {
    /// What one more grant needs when the cloud holds `count` grants, `held`.
    pub(super) fn room<'a, I>(&self, count: usize, held: I) -> Room
    where
        I: Iterator<Item = Held<'a>> + Clone,
    {
        if count < self.limit.max(1) {
            return Room::Free;
        }
        let victim = match self.when_full {
            WhenFull::Refuse => return Room::Refused,
            WhenFull::PushOutTheOldest => held.min_by_key(|h| (h.issued, h.device_code)),
            WhenFull::PushOutTheBusiest => busiest_oldest(held),
        };
        victim.map_or(Room::Refused, |h| Room::PushOut(h.device_code.to_owned()))
    }
}

/// The oldest grant that serves nobody, else the oldest grant of the source holding the most
/// open ones (among sources holding as many, the one whose grant is oldest: no attacker picks
/// which of them goes).
fn busiest_oldest<'a, I>(held: I) -> Option<Held<'a>>
where
    I: Iterator<Item = Held<'a>> + Clone,
{
    let closed = held
        .clone()
        .filter(|h| !h.open)
        .min_by_key(|h| (h.issued, h.device_code));
    if closed.is_some() {
        return closed;
    }
    let mut per_source: HashMap<Option<IpAddr>, usize> = HashMap::new();
    for h in held.clone() {
        *per_source.entry(h.origin).or_default() += 1;
    }
    held.max_by_key(|h| {
        let count = per_source.get(&h.origin).copied().unwrap_or_default();
        (count, Reverse(h.issued), Reverse(h.device_code))
    })
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn source(n: u8) -> Option<IpAddr> {
        Some(IpAddr::V4(Ipv4Addr::new(127, 0, 1, n)))
    }

    /// A table of grants: (device code, source, requested at, open).
    struct Table(Vec<(String, Option<IpAddr>, u64, bool)>);

    impl Table {
        fn held(&self) -> impl Iterator<Item = Held<'_>> + Clone {
            self.0.iter().map(|(code, origin, at, open)| Held {
                device_code: code,
                origin: *origin,
                issued: *at,
                open: *open,
            })
        }

        fn add(&mut self, bound: &GrantBound, code: &str, origin: Option<IpAddr>, at: u64) -> bool {
            match bound.room(self.0.len(), self.held()) {
                Room::Free => {}
                Room::PushOut(gone) => self.0.retain(|(c, ..)| *c != gone),
                Room::Refused => return false,
            }
            self.0.push((code.to_owned(), origin, at, true));
            true
        }

        fn has(&self, code: &str) -> bool {
            self.0.iter().any(|(c, ..)| c == code)
        }
    }

    const BUSIEST: GrantBound = GrantBound {
        limit: 8,
        when_full: WhenFull::PushOutTheBusiest,
    };

    #[test]
    fn below_the_bound_nothing_goes() {
        let mut table = Table(Vec::new());
        for i in 0..8 {
            assert!(table.add(&BUSIEST, &format!("g{i}"), source(1), i));
        }
        assert_eq!(table.0.len(), 8);
    }

    #[test]
    fn a_flood_from_many_sources_pushes_out_its_own_grants_not_a_waiting_dms() {
        let mut table = Table(Vec::new());
        table.add(&BUSIEST, "waiting", source(200), 0);
        for i in 0..1000u64 {
            let from = source(u8::try_from(i % 4).unwrap_or(0) + 1);
            assert!(table.add(&BUSIEST, &format!("flood-{i}"), from, i + 1));
            assert!(table.0.len() <= 8);
        }
        assert!(table.has("waiting"), "the quiet source's grant stays");
        assert!(table.has("flood-999"), "the newest flood grant is held");
    }

    #[test]
    fn a_grant_that_serves_nobody_goes_first() {
        let mut table = Table(Vec::new());
        for i in 0..8u64 {
            table.add(&BUSIEST, &format!("g{i}"), source(1), i);
        }
        table.0[5].3 = false;
        table.add(&BUSIEST, "new", source(2), 100);
        assert!(!table.has("g5") && table.has("g0"));
    }

    #[test]
    fn among_sources_holding_as_many_the_oldest_grant_goes() {
        let mut table = Table(Vec::new());
        for (i, at) in [7u64, 3, 9, 5, 4, 8, 6, 10].into_iter().enumerate() {
            let n = u8::try_from(i).unwrap_or(0);
            table.add(&BUSIEST, &format!("g{at}"), source(n), at);
        }
        table.add(&BUSIEST, "new", source(100), 11);
        assert!(!table.has("g3"), "the oldest of equally busy sources goes");
        assert_eq!(table.0.len(), 8);
    }

    #[test]
    fn the_oldest_overall_fault_pushes_out_the_waiting_dms() {
        let oldest = GrantBound {
            limit: 8,
            when_full: WhenFull::PushOutTheOldest,
        };
        let mut table = Table(Vec::new());
        table.add(&oldest, "waiting", source(200), 0);
        for i in 0..8u64 {
            table.add(&oldest, &format!("flood-{i}"), source(1), i + 1);
        }
        assert!(!table.has("waiting"));
    }

    #[test]
    fn the_refusing_fault_turns_new_grants_away_when_full() {
        let refuse = GrantBound {
            limit: 8,
            when_full: WhenFull::Refuse,
        };
        let mut table = Table(Vec::new());
        for i in 0..8u64 {
            assert!(table.add(&refuse, &format!("flood-{i}"), source(1), i));
        }
        assert!(!table.add(&refuse, "late", source(200), 9));
    }

    /// A flood from six sources holds one of them at two grants or more whenever the table of
    /// eight is full beside the waiting DMS (pigeonhole): whatever the flood's order, the
    /// waiting DMS's single grant is never the one pushed out, and the table never passes its
    /// bound.
    mod flood_orders {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, RngSeed};

        use super::*;

        fn config() -> Config {
            Config {
                cases: 256,
                rng_algorithm: RngAlgorithm::ChaCha,
                rng_seed: RngSeed::Fixed(0x0D05_0001),
                failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
                    "proptest-regressions/grant-bound.txt",
                ))),
                ..Config::default()
            }
        }

        proptest! {
            #![proptest_config(config())]
            #[test]
            fn the_waiting_grant_outlives_any_flood_from_six_sources(
                before in proptest::collection::vec(1u8..7, 0..16),
                after in proptest::collection::vec(1u8..7, 0..200),
            ) {
                let mut table = Table(Vec::new());
                let mut at = 0u64;
                for (i, n) in before.iter().enumerate() {
                    at += 1;
                    table.add(&BUSIEST, &format!("before-{i}"), source(*n), at);
                }
                at += 1;
                table.add(&BUSIEST, "waiting", source(200), at);
                for (i, n) in after.iter().enumerate() {
                    at += 1;
                    let added = table.add(&BUSIEST, &format!("after-{i}"), source(*n), at);
                    prop_assert!(added);
                    prop_assert!(table.0.len() <= BUSIEST.limit);
                    prop_assert!(table.has("waiting"));
                }
            }
        }
    }
}
