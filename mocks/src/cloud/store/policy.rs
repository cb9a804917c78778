//! How the store seals, backs up and what the front end keeps: settled once from the faults.

use std::time::Duration;

use crate::world::{Fault, FaultSet};

/// How often the store is copied to the second region: four times a day.
pub(crate) const BACKUP_EVERY: Duration = Duration::from_secs(6 * 3600);

/// How long after a rotation the re-wrap job moves the older data keys to the new version:
/// until then both versions unwrap.
pub(crate) const REWRAP_AFTER: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StorePolicy {
    pub sealing: Sealing,
    pub backup: BackupPolicy,
    pub answers: AnswerKeeping,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sealing {
    /// Whether values are sealed at all.
    pub enabled: bool,
    /// `(table, column)` pairs written as they are.
    pub plain_columns: Vec<(&'static str, &'static str)>,
    /// Whether each ciphertext is bound to its table, row and column.
    pub bind_to_cell: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BackupPolicy {
    /// How often a backup is taken; never when `None`.
    pub every: Option<Duration>,
    /// Whether each backup also writes a readable export of the records.
    pub plaintext_export: bool,
    /// Whether a key version is kept while a backup still holds a data key it wraps;
    /// otherwise the re-wrap retires every older version at once.
    pub keys_outlive_backups: bool,
    /// Whether a backup carries the wrapped data keys with the rows; otherwise
    /// (`cloud.backup-without-data-keys`) only the tables of records go, the keys being
    /// thought of as the vault's business.
    pub with_data_keys: bool,
}

/// Where the sharing front end keeps the DMS answers it relays: nowhere, as SHARE-4 asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnswerKeeping {
    Nowhere,
    InStore,
    InCache,
}

impl StorePolicy {
    pub fn from_faults(faults: &FaultSet) -> Self {
        let on = |fault| faults.is_on(fault);
        Self {
            sealing: Sealing {
                enabled: !on(Fault::CloudPlaintextStore),
                plain_columns: if on(Fault::CloudPlaintextColumn) {
                    vec![("accounts", "email")]
                } else {
                    Vec::new()
                },
                bind_to_cell: !on(Fault::CloudNoAad),
            },
            backup: BackupPolicy {
                every: (!on(Fault::CloudNoBackup)).then_some(BACKUP_EVERY),
                plaintext_export: on(Fault::CloudBackupPlaintext),
                keys_outlive_backups: !on(Fault::CloudRetireKeysBackupsNeed),
                with_data_keys: !on(Fault::CloudBackupWithoutDataKeys),
            },
            answers: if on(Fault::CloudStoreDashboardData) {
                AnswerKeeping::InStore
            } else if on(Fault::CloudCacheAnswers) {
                AnswerKeeping::InCache
            } else {
                AnswerKeeping::Nowhere
            },
        }
    }

    /// The tables this build creates.
    pub fn tables(&self) -> Vec<super::Table> {
        super::Table::ALL
            .iter()
            .copied()
            .filter(|t| {
                *t != super::Table::AnswerSnapshots || self.answers == AnswerKeeping::InStore
            })
            .collect()
    }
}
