//! What the cloud keeps (SHARE-4, ENC-1, ENC-2, DR-1): its store on disk holds every value
//! sealed with AES-256-GCM under data keys the vault wraps, each bound to its place
//! (`sealed`); the vault's key rotates on schedule with nothing lost (`rotation`); backups go
//! to a second region several times a day and a restore loses nothing before the last one
//! (`backups`); and after a day of viewing, the DMS's data is nowhere the cloud writes
//! (`payload`). Every judgement reads the files with the scenario's own SQLite connection and
//! its own AES-GCM (`reader`), and looks for canaries its own way (`search`).

mod backups;
mod payload;
pub(crate) mod reader;
mod rotation;
mod sealed;
mod search;
mod sharing;

use mocks::Environment;
use mocks::cloud::StorePaths;
use mocks::world::Fault;

use crate::{Catch, Failure, Scenario, Suite};

pub(crate) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "storage.no-stored-byte-is-plaintext",
            suite: Suite::Storage,
            title: "Nothing the cloud put in its store appears in the files in any spelling, and every data key is a 256-bit key the vault wraps",
            requirements: &["ENC-1"],
            catches: const {
                &[Catch::by(
                    Fault::CloudPlaintextStore,
                    "no-plaintext-in-store-files",
                )]
            },
            body: |ctx| Box::pin(sealed::no_stored_byte_is_plaintext(ctx)),
        },
        Scenario {
            id: "storage.a-sealed-value-opens-only-in-its-place",
            suite: Suite::Storage,
            title: "Two rows' ciphertexts swapped in the file are refused by the cloud's read, and every value opens as AES-256-GCM bound to its table, row and column",
            requirements: &["ENC-1"],
            catches: const {
                &[
                    Catch::by(Fault::CloudNoAad, "swapped-ciphertext-refused"),
                    Catch::by(
                        Fault::CloudPlaintextColumn,
                        "every-value-opens-as-aes-256-gcm-in-its-place",
                    ),
                ]
            },
            body: |ctx| Box::pin(sealed::a_sealed_value_opens_only_in_its_place(ctx)),
        },
        Scenario {
            id: "storage.keys-rotate-and-old-records-still-read",
            suite: Suite::Storage,
            title: "The vault's key rotates on schedule; records written before still read, new writes use the new version, and the re-wrap job moves every data key to it",
            requirements: &["ENC-2"],
            catches: const {
                &[Catch::by(
                    Fault::CloudRotationLosesData,
                    "records-before-rotation-read-after-it",
                )]
            },
            body: |ctx| Box::pin(rotation::keys_rotate_and_old_records_still_read(ctx)),
        },
        Scenario {
            id: "storage.restore-loses-nothing-before-the-last-backup",
            suite: Suite::Storage,
            title: "Backups reach the second region several times a day, sealed as the store is; with the primary destroyed, a restore loses nothing older than the last backup",
            requirements: &["DR-1"],
            catches: const {
                &[
                    Catch::by(Fault::CloudNoBackup, "backed-up-several-times-a-day"),
                    Catch::by(Fault::CloudBackupPlaintext, "backups-hold-no-plaintext"),
                ]
            },
            body: |ctx| Box::pin(backups::restore_loses_nothing_before_the_last_backup(ctx)),
        },
        Scenario {
            id: "storage.no-dms-data-in-the-cloud",
            suite: Suite::Storage,
            title: "After a day of a recipient viewing a dashboard, the DMA's canaries are in none of the cloud's store, backups, logs or files, raw or decrypted, plain, escaped, base64 or gzipped",
            requirements: &["SHARE-4"],
            catches: const {
                &[
                    Catch::by(Fault::CloudStoreDashboardData, "no-dms-data-in-the-store"),
                    Catch::by(Fault::CloudCacheAnswers, "no-dms-data-in-the-clouds-files"),
                ]
            },
            body: |ctx| Box::pin(payload::no_dms_data_in_the_cloud(ctx)),
        },
    ]
}

/// Where the environment's cloud keeps its files.
pub(crate) fn store_paths(env: &Environment) -> Result<StorePaths, Failure> {
    env.cloud()
        .store()
        .paths()
        .cloned()
        .ok_or_else(|| Failure::Harness("the cloud's store is not on disk".into()))
}

/// Values the scenario knows the cloud keeps, by name: the accounts' addresses and
/// organisations, the DMS's ID and name, the token families it issued, and every line it
/// logged (each a record of the audit log).
fn known_values(env: &Environment) -> Vec<(String, Vec<u8>)> {
    let accounts = env.accounts();
    let mut values = vec![
        ("the DMS's ID".to_owned(), accounts.dms_id.clone()),
        ("the DMS's name".to_owned(), accounts.dms_name.clone()),
    ];
    for account in [&accounts.cloud_admin, &accounts.cloud_outsider] {
        values.push((format!("account {}", account.email), account.email.clone()));
        values.push((
            format!("organisation {}", account.organization),
            account.organization.clone(),
        ));
    }
    for issued in env.cloud().issued() {
        values.push((format!("token family {}", issued.family), issued.family));
    }
    for (i, line) in env.cloud().log().lines().into_iter().enumerate() {
        values.push((format!("log line {i}"), line));
    }
    values
        .into_iter()
        .map(|(name, value)| (name, value.into_bytes()))
        .collect()
}

/// Where any of `values` occurs in `places`, in any spelling (raw, hex, base64 at any
/// alignment), the way the tokens suite looks for secrets.
fn plaintext_found(places: &[(String, Vec<u8>)], values: &[(String, Vec<u8>)]) -> Vec<String> {
    let secrets: Vec<_> = values
        .iter()
        .map(|(name, value)| crate::suites::tokens::leaks::Secret::new(name.clone(), value.clone()))
        .collect();
    crate::suites::tokens::leaks::findings(places, &secrets)
}
