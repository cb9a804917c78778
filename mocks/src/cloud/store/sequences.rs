//! The store over time, as a property: writes, the clock moving (rotations, re-wraps, backups
//! as the schedule has them) and restores from the second region, in any order and number.
//! After every step every backup opens whole, and a restore brings back exactly what the model
//! says the newest backup held. ChaCha with a fixed seed; failures kept in
//! `proptest-regressions/store-sequences.txt`.

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, RngSeed};

use std::time::Duration;

use super::tests::{Fixture, family, fixture};
use super::*;

#[derive(Debug, Clone)]
enum Step {
    Put(u8),
    /// The clock moves on by this many hours, then the scheduled jobs run.
    Advance(u16),
    Restore,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => any::<u8>().prop_map(Step::Put),
        3 => (1u16..=24 * 12).prop_map(Step::Advance),
        1 => Just(Step::Restore),
    ]
}

fn names(f: &Fixture) -> Vec<String> {
    let mut kept: Vec<String> = f
        .store
        .all::<TokenFamilyRecord>()
        .expect("the primary reads")
        .into_iter()
        .map(|r| r.family)
        .collect();
    kept.sort();
    kept
}

proptest! {
    #![proptest_config(Config {
        cases: 24,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x5707_E5EC),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/store-sequences.txt",
        ))),
        ..Config::default()
    })]

    #[test]
    fn every_backup_opens_and_a_restore_brings_back_the_newest(
        steps in proptest::collection::vec(step(), 1..24)
    ) {
        let f = fixture(FaultSet::none());
        let mut model: Vec<String> = Vec::new();
        let mut newest_backup: Option<Vec<String>> = None;
        for step in steps {
            match step {
                Step::Put(n) => {
                    let name = format!("family-{n}");
                    f.store.put(&family(&name, false)).expect("a put");
                    if !model.contains(&name) {
                        model.push(name);
                        model.sort();
                    }
                }
                Step::Advance(hours) => {
                    let before = f.store.backups().expect("backups listed").len();
                    f.clock.advance(Duration::from_secs(u64::from(hours) * 3600));
                    f.store.maintain();
                    if f.store.backups().expect("backups listed").len() > before {
                        newest_backup = Some(model.clone());
                    }
                }
                Step::Restore => match (&newest_backup, f.store.restore_from_replica()) {
                    (Some(held), Ok(_)) => {
                        model = held.clone();
                        prop_assert_eq!(names(&f), model.clone());
                    }
                    (None, Err(StoreError::NoBackup(_))) => {}
                    (held, got) => prop_assert!(false, "restore: {held:?} vs {got:?}"),
                },
            }
            for backup in f.store.backups().expect("backups listed") {
                prop_assert!(
                    f.store.decrypt_file(&backup.path).is_ok(),
                    "{backup:?} does not open; key versions {:?}",
                    f.store.key_versions()
                );
            }
            prop_assert_eq!(names(&f), model.clone());
        }
    }
}
