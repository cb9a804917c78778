//! What the cloud keeps, on disk: an embedded SQLite database (rusqlite, SQLite compiled in),
//! one per environment in its own directory, with a second directory standing for the second
//! region its backups go to. Every value is sealed (AES-256-GCM) under a data key wrapped by
//! the vault's key-encryption key, bound to its table, row and column (`sealing`); the schema
//! is one table per kind of record (`schema`, `records`); backups and the restore from them
//! are `backup`; where the sharing front end could keep DMS answers is `answers`; an
//! operator's decrypting view of any copy is `inspect`.
//!
//! A part of the cloud keeps a record with `state.store.put(&record)` (the record of the same
//! key is replaced; keyless kinds, like the audit log and share openings, are appended) and
//! reads them back with `all::<R>()` or `find::<R>(key)`; the kinds are in `records`: accounts,
//! DMS registrations (with their public keys), token families and their refresh keys (as
//! digests), shares, share recipients, their links (as digests), share openings, the mail
//! outbox and the audit log: everything the cloud needs to serve again after a restart or a
//! restore (`Cloud::restore_from_backup`).

mod answers;
mod backup;
mod inspect;
mod key_retention;
mod policy;
mod records;
mod schema;
mod scratch;
mod sealing;
#[cfg(test)]
mod sequences;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};

use super::vault::{Credential, KekVersions, KeyVault, VaultError};
use crate::world::{Clock, FaultSet};

pub use super::cipher::CipherError;
pub(crate) use answers::keeping_answers;
pub use backup::{Backup, Restored};
pub(crate) use policy::StorePolicy;
pub use records::{
    AccountRecord, AnswerSnapshot, AuditRecord, DmsRegistration, MailRecord, Record,
    RefreshKeyRecord, RemoteAccessRecord, ShareLinkRecord, ShareOpeningRecord,
    ShareRecipientRecord, ShareRecord, TokenFamilyRecord,
};
pub use schema::Table;
pub use scratch::ScratchDir;

/// The file name of the primary database inside its directory.
const DATABASE: &str = "store.sqlite";

/// Where an environment's store lives.
#[derive(Debug, Clone)]
pub struct StorePaths {
    /// The environment's own directory: the cloud's temporary files are all under it.
    pub root: PathBuf,
    /// The primary region's database.
    pub database: PathBuf,
    /// The second region: where the backups go.
    pub replica: PathBuf,
    /// The front end's scratch space.
    pub cache: PathBuf,
}

impl StorePaths {
    pub fn under(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
            database: root.join("primary").join(DATABASE),
            replica: root.join("replica"),
            cache: root.join("cache"),
        }
    }
}

/// Why the store could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("files of the store: {0}")]
    Io(#[from] std::io::Error),
    /// The vault would not wrap or unwrap a data key.
    #[error("key vault: {0}")]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Cipher(#[from] CipherError),
    /// A row names a data key the store does not hold.
    #[error("no data key {0}")]
    NoDataKey(i64),
    /// A value did not open for its place: moved from another row or column, or changed.
    #[error("{table} row {row}: {column} was not sealed for this place")]
    Refused {
        table: &'static str,
        row: i64,
        column: &'static str,
    },
    /// A value opened but is not what its column holds.
    #[error("{table}: {column} holds a malformed value")]
    Malformed {
        table: &'static str,
        column: &'static str,
    },
    /// The second region holds no backup to restore from.
    #[error("no backup in {0}")]
    NoBackup(PathBuf),
}

/// One row of a table, every value opened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    pub id: i64,
    pub data_key: i64,
    pub values: BTreeMap<&'static str, String>,
}

/// The key versions in use: the vault's, and how many data keys each version wraps.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyVersions {
    pub vault: KekVersions,
    pub data_keys_by_version: BTreeMap<u32, usize>,
}

/// The cloud's store.
#[derive(Debug)]
pub struct Store {
    inner: Mutex<Inner>,
    vault: Arc<KeyVault>,
    identity: Credential,
    paths: Option<StorePaths>,
    pub(crate) policy: StorePolicy,
    clock: Clock,
}

#[derive(Debug)]
struct Inner {
    db: Connection,
    sealer: sealing::Sealer,
    /// The key version seen at the last maintenance: a change is a rotation.
    kek_version: u32,
    backups: backup::Schedule,
}

impl Store {
    /// Opens (creating) the store in `paths`, sealing with keys `identity` has the vault wrap.
    pub(crate) fn open(
        paths: Option<StorePaths>,
        vault: Arc<KeyVault>,
        identity: Credential,
        clock: Clock,
        faults: &FaultSet,
    ) -> Result<Self, StoreError> {
        let policy = StorePolicy::from_faults(faults);
        let db = match &paths {
            Some(paths) => {
                for dir in [
                    paths.database.parent().unwrap_or(&paths.root),
                    &paths.replica,
                    &paths.cache,
                ] {
                    std::fs::create_dir_all(dir)?;
                }
                connect(&paths.database)?
            }
            None => Connection::open_in_memory()?,
        };
        schema::create(&db, &policy.tables())?;
        let now = clock.unix_seconds();
        let kek_version = vault.kek_versions().current;
        Ok(Self {
            inner: Mutex::new(Inner {
                db,
                sealer: sealing::Sealer::new(
                    vault.clone(),
                    identity.clone(),
                    policy.sealing.clone(),
                ),
                kek_version,
                backups: backup::Schedule::new(policy.backup.every, now),
            }),
            vault,
            identity,
            paths,
            policy,
            clock,
        })
    }

    /// Where the store's files are; `None` for an in-memory store.
    pub fn paths(&self) -> Option<&StorePaths> {
        self.paths.as_ref()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `record`: replaces the record of the same key, or appends one without a key.
    pub fn put<R: Record>(&self, record: &R) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let Inner { db, sealer, .. } = &mut *inner;
        let table = R::TABLE;
        let lookup = match record.key() {
            Some(key) => Some(sealer.lookup(db, table, &key)?),
            None => None,
        };
        let existing: Option<i64> = match &lookup {
            Some(lookup) => db
                .query_row(
                    &format!("SELECT id FROM {} WHERE lookup = ?1", table.name()),
                    params![lookup],
                    |row| row.get(0),
                )
                .optional()?,
            None => None,
        };
        let id = match existing {
            Some(id) => id,
            None => db.query_row(
                &format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {}", table.name()),
                [],
                |row| row.get(0),
            )?,
        };
        let key_id = sealer.data_key_for(db, table)?;
        let mut cells = Vec::new();
        for (column, value) in table.columns().iter().zip(record.values()) {
            cells.push(sealer.seal(db, table, id, column, key_id, &value)?);
        }
        let columns = table.columns().join(", ");
        let marks: String = (0..cells.len()).map(|i| format!(", ?{}", i + 4)).collect();
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&id, &lookup, &key_id];
        values.extend(cells.iter().map(|c| c as &dyn rusqlite::ToSql));
        db.execute(
            &format!(
                "INSERT OR REPLACE INTO {} (id, lookup, data_key, {columns}) VALUES (?1, ?2, ?3{marks})",
                table.name()
            ),
            values.as_slice(),
        )?;
        Ok(())
    }

    /// Every row of `table`, each value opened: refused as a whole if one does not open.
    pub fn rows(&self, table: Table) -> Result<Vec<Row>, StoreError> {
        let mut inner = self.lock();
        let Inner { db, sealer, .. } = &mut *inner;
        read_rows(db, sealer, table)
    }

    /// Every record of `R`'s table, in the order they were first kept.
    pub fn all<R: Record>(&self) -> Result<Vec<R>, StoreError> {
        self.rows(R::TABLE)?
            .into_iter()
            .map(|row| R::from_values(row.values.into_values_in(R::TABLE)))
            .collect()
    }

    /// The record of `R` kept under `key`, if there is one.
    pub fn find<R: Record>(&self, key: &str) -> Result<Option<R>, StoreError> {
        Ok(self
            .all::<R>()?
            .into_iter()
            .find(|r| r.key().as_deref() == Some(key)))
    }

    /// The key versions in use, as the vault and the data keys' table say.
    pub fn key_versions(&self) -> Result<KeyVersions, StoreError> {
        let inner = self.lock();
        let mut by_version = BTreeMap::new();
        let mut query = inner
            .db
            .prepare(&format!("SELECT kek_version FROM {}", schema::DATA_KEYS))?;
        for version in query.query_map([], |row| row.get::<_, u32>(0))? {
            *by_version.entry(version?).or_insert(0) += 1;
        }
        Ok(KeyVersions {
            vault: self.vault.kek_versions(),
            data_keys_by_version: by_version,
        })
    }

    /// The scheduled jobs, as the clock stands: the vault's rotation, the re-wrap of older
    /// data keys a day after it, and the backups.
    pub(crate) fn maintain(&self) {
        let now = self.clock.unix_seconds();
        self.vault.rotate_if_due(now);
        let mut inner = self.lock();
        let versions = self.vault.kek_versions();
        if versions.current != inner.kek_version {
            // A rotation: cached keys must not outlive the key version they came from.
            inner.sealer.forget_keys();
            inner.kek_version = versions.current;
        }
        if now >= versions.since + policy::REWRAP_AFTER.as_secs() {
            let Inner { db, sealer, .. } = &mut *inner;
            match sealer.rewrap(db) {
                (_, None) => self
                    .vault
                    .retire_kek_versions_below(self.retire_below(versions.current)),
                (moved, Some(e)) => {
                    tracing::warn!("re-wrap moved {moved} data keys, then failed: {e}")
                }
            }
        }
        if inner.backups.due(now)
            && let Some(paths) = &self.paths
            && let Err(e) = self.back_up(&mut inner, paths, now)
        {
            tracing::warn!("backup failed: {e}");
        }
    }
}

impl Store {
    /// The oldest key version the re-wrap may retire up to: the current one, or, for a store
    /// that keeps what its backups need, the oldest any backup still holds a data key under.
    /// A second region that cannot be read keeps every version.
    fn retire_below(&self, current: u32) -> u32 {
        let Some(paths) = self
            .paths
            .as_ref()
            .filter(|_| self.policy.backup.keys_outlive_backups)
        else {
            return current;
        };
        match key_retention::oldest_version_backups_need(&paths.replica) {
            Ok(Some(needed)) => needed.min(current),
            Ok(None) => current,
            Err(e) => {
                tracing::warn!("cannot read the backups' key versions, retiring none: {e}");
                0
            }
        }
    }
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let db = Connection::open(path)?;
    // Durability is the backups' job here: the simulated host never loses power.
    db.execute_batch("PRAGMA synchronous = OFF;")?;
    // An auditor's reader (sqlite3, a scenario) may hold the file for a moment.
    db.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(db)
}

fn read_rows(
    db: &Connection,
    sealer: &mut sealing::Sealer,
    table: Table,
) -> Result<Vec<Row>, StoreError> {
    let columns = table.columns();
    let mut query = db.prepare(&format!(
        "SELECT id, data_key, {} FROM {} ORDER BY id",
        columns.join(", "),
        table.name()
    ))?;
    let stored: Vec<(i64, i64, Vec<Vec<u8>>)> = query
        .query_map([], |row| {
            let mut cells = Vec::new();
            for i in 0..columns.len() {
                cells.push(row.get::<_, Vec<u8>>(i + 2)?);
            }
            Ok((row.get(0)?, row.get(1)?, cells))
        })?
        .collect::<rusqlite::Result<_>>()?;
    stored
        .into_iter()
        .map(|(id, data_key, cells)| {
            let mut values = BTreeMap::new();
            for (column, cell) in columns.iter().zip(cells) {
                values.insert(
                    *column,
                    sealer.open(db, table, id, column, data_key, &cell)?,
                );
            }
            Ok(Row {
                id,
                data_key,
                values,
            })
        })
        .collect()
}

/// A row's values back in its table's column order.
trait InColumnOrder {
    fn into_values_in(self, table: Table) -> Vec<String>;
}

impl InColumnOrder for BTreeMap<&'static str, String> {
    fn into_values_in(mut self, table: Table) -> Vec<String> {
        table
            .columns()
            .iter()
            .map(|c| self.remove(c).unwrap_or_default())
            .collect()
    }
}
