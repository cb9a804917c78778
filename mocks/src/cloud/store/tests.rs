use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::cloud::vault::VaultPolicy;
use crate::world::Fault;

const DAY: Duration = Duration::from_secs(24 * 3600);

pub(super) struct Fixture {
    pub store: Store,
    pub clock: Clock,
    dir: ScratchDir,
}

pub(super) fn fixture(faults: impl Into<FaultSet>) -> Fixture {
    let faults = faults.into();
    let clock = Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    let (vault, workloads) =
        KeyVault::provision(&VaultPolicy::from_faults(&faults), clock.unix_seconds());
    let dir = ScratchDir::new().unwrap();
    let store = Store::open(
        Some(StorePaths::under(dir.path())),
        Arc::new(vault),
        workloads.token_service,
        clock.clone(),
        &faults,
    )
    .unwrap();
    Fixture { store, clock, dir }
}

pub(super) fn family(name: &str, revoked: bool) -> TokenFamilyRecord {
    TokenFamilyRecord {
        family: name.into(),
        dms_id: "dms-1".into(),
        organization: "Skyline".into(),
        revoked,
    }
}

fn database(f: &Fixture) -> Vec<u8> {
    std::fs::read(&f.store.paths().unwrap().database).unwrap()
}

#[test]
fn records_are_kept_by_key_and_nothing_readable_reaches_the_file() {
    let f = fixture(FaultSet::none());
    f.store.put(&family("family-one", false)).unwrap();
    f.store.put(&family("family-two", false)).unwrap();
    f.store.put(&family("family-one", true)).unwrap();
    f.store
        .put(&AuditRecord {
            at: 1,
            line: "a line of the log".into(),
        })
        .unwrap();
    let families = f.store.all::<TokenFamilyRecord>().unwrap();
    assert_eq!(
        families,
        [family("family-one", true), family("family-two", false)]
    );
    assert_eq!(
        f.store.find::<TokenFamilyRecord>("family-two").unwrap(),
        Some(family("family-two", false))
    );
    let file = database(&f);
    for plain in ["family-one", "dms-1", "Skyline", "a line of the log"] {
        assert!(
            !file.windows(plain.len()).any(|w| w == plain.as_bytes()),
            "{plain}"
        );
    }
}

#[test]
fn the_plaintext_store_fault_writes_values_as_they_are() {
    let f = fixture(Fault::CloudPlaintextStore);
    f.store.put(&family("family-one", false)).unwrap();
    assert!(database(&f).windows(7).any(|w| w == b"Skyline"));
}

/// Swaps the `organization` of rows 1 and 2 of `token_families` in the file.
fn swap_organizations(f: &Fixture) {
    let db = Connection::open(&f.store.paths().unwrap().database).unwrap();
    let of = |row: i64| -> Vec<u8> {
        db.query_row(
            "SELECT organization FROM token_families WHERE id = ?1",
            [row],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (one, two) = (of(1), of(2));
    for (row, value) in [(1, two), (2, one)] {
        db.execute(
            "UPDATE token_families SET organization = ?1 WHERE id = ?2",
            params![value, row],
        )
        .unwrap();
    }
}

#[test]
fn a_ciphertext_moved_to_another_row_is_refused_unless_nothing_binds_it() {
    for (faults, refused) in [
        (FaultSet::none(), true),
        (FaultSet::from(Fault::CloudNoAad), false),
    ] {
        let f = fixture(faults);
        f.store.put(&family("family-one", false)).unwrap();
        f.store
            .put(&TokenFamilyRecord {
                organization: "Elsewhere".into(),
                ..family("family-two", false)
            })
            .unwrap();
        swap_organizations(&f);
        assert_eq!(
            matches!(
                f.store.all::<TokenFamilyRecord>(),
                Err(StoreError::Refused {
                    column: "organization",
                    ..
                })
            ),
            refused
        );
    }
}

#[test]
fn a_rotation_keeps_old_records_readable_and_the_rewrap_moves_them() {
    let f = fixture(FaultSet::none());
    f.store.put(&family("before", false)).unwrap();
    f.clock.advance(30 * DAY);
    f.store.maintain();
    f.store.put(&family("after", false)).unwrap();
    let versions = f.store.key_versions().unwrap();
    assert_eq!(versions.vault.current, 2);
    assert_eq!(versions.vault.held, [1, 2]);
    assert_eq!(versions.data_keys_by_version.get(&2), Some(&1));
    assert_eq!(f.store.all::<TokenFamilyRecord>().unwrap().len(), 2);
    f.clock.advance(DAY);
    f.store.maintain();
    let versions = f.store.key_versions().unwrap();
    // The backups taken before the rotation hold data keys version 1 wraps: it stays.
    assert_eq!(versions.vault.held, [1, 2]);
    assert_eq!(
        versions.data_keys_by_version.keys().collect::<Vec<_>>(),
        [&2]
    );
    assert_eq!(f.store.all::<TokenFamilyRecord>().unwrap().len(), 2);
    for backup in f.store.backups().unwrap() {
        assert!(
            f.store.decrypt_file(&backup.path).is_ok(),
            "{backup:?} opens"
        );
    }
    // Once no backup holds a data key version 1 wraps, the next re-wrap retires it.
    for backup in f.store.backups().unwrap() {
        std::fs::remove_file(&backup.path).unwrap();
    }
    f.clock.advance(DAY);
    f.store.maintain();
    assert_eq!(f.store.key_versions().unwrap().vault.held, [2]);
}

#[test]
fn retiring_what_the_backups_need_leaves_them_unreadable() {
    let f = fixture(Fault::CloudRetireKeysBackupsNeed);
    f.store.put(&family("before", false)).unwrap();
    f.clock.advance(policy::BACKUP_EVERY);
    f.store.maintain();
    f.clock.advance(30 * DAY);
    f.store.maintain();
    f.clock.advance(DAY);
    f.store.maintain();
    assert_eq!(f.store.key_versions().unwrap().vault.held, [2]);
    let first = f.store.backups().unwrap().remove(0);
    assert!(f.store.decrypt_file(&first.path).is_err());
}

#[test]
fn a_rotation_that_replaces_the_key_loses_the_older_records() {
    let f = fixture(Fault::CloudRotationLosesData);
    f.store.put(&family("before", false)).unwrap();
    f.clock.advance(30 * DAY);
    f.store.maintain();
    assert!(matches!(
        f.store.all::<TokenFamilyRecord>(),
        Err(StoreError::Vault(_))
    ));
}

#[test]
fn a_restore_brings_back_everything_before_the_last_backup() {
    let f = fixture(FaultSet::none());
    f.store.put(&family("backed-up", false)).unwrap();
    f.clock.advance(policy::BACKUP_EVERY);
    f.store.maintain();
    f.store.put(&family("too-late", false)).unwrap();
    let backups = f.store.backups().unwrap();
    assert_eq!(backups.len(), 1);
    assert!(backups[0].path.starts_with(f.dir.path().join("replica")));
    std::fs::remove_file(&f.store.paths().unwrap().database).unwrap();
    let restored = f.store.restore_from_replica().unwrap();
    assert_eq!(restored.from, backups[0]);
    assert_eq!(
        f.store.all::<TokenFamilyRecord>().unwrap(),
        [family("backed-up", false)]
    );
    f.store.put(&family("after-restore", false)).unwrap();
    assert_eq!(f.store.all::<TokenFamilyRecord>().unwrap().len(), 2);
    let copy = f.store.decrypt_file(&backups[0].path).unwrap();
    assert_eq!(copy["token_families"].len(), 1);
}

#[test]
fn without_a_backup_job_the_second_region_stays_empty() {
    let f = fixture(Fault::CloudNoBackup);
    f.store.put(&family("one", false)).unwrap();
    f.clock.advance(DAY);
    f.store.maintain();
    assert!(f.store.backups().unwrap().is_empty());
    assert!(matches!(
        f.store.restore_from_replica(),
        Err(StoreError::NoBackup(_))
    ));
}
