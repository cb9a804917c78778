//! Backups to the second region: several times a simulated day the database is copied
//! (`VACUUM INTO`, a consistent snapshot) into the replica directory as
//! `store-<unix seconds>.sqlite`. The copy holds the same sealed values and wrapped keys, so
//! it is encrypted as the primary is and opens only through the vault. A restore replaces the
//! primary with the newest copy.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Inner, Store, StoreError, StorePaths, connect, read_rows, schema};

/// When the next backup is due.
#[derive(Debug)]
pub(super) struct Schedule {
    every: Option<Duration>,
    next: u64,
}

impl Schedule {
    pub fn new(every: Option<Duration>, now: u64) -> Self {
        Self {
            every,
            next: every.map_or(u64::MAX, |e| now + e.as_secs()),
        }
    }

    /// Whether a backup is due at `now`; if so, the next one is scheduled from now.
    pub fn due(&mut self, now: u64) -> bool {
        match self.every {
            Some(every) if now >= self.next => {
                self.next = now + every.as_secs();
                true
            }
            _ => false,
        }
    }
}

/// One backup in the second region.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Backup {
    /// When it was taken, in Unix seconds (the environment's clock).
    pub taken_at: u64,
    pub path: PathBuf,
}

/// What a restore brought back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Restored {
    pub from: Backup,
    /// When the restore ran.
    pub at: u64,
}

impl Store {
    pub(super) fn back_up(
        &self,
        inner: &mut Inner,
        paths: &StorePaths,
        now: u64,
    ) -> Result<Backup, StoreError> {
        let path = paths.replica.join(format!("store-{now}.sqlite"));
        if path.exists() {
            std::fs::remove_file(&path)?;
        }
        inner
            .db
            .execute("VACUUM INTO ?1", [path.to_string_lossy().as_ref()])?;
        if !self.policy.backup.with_data_keys {
            let copy = connect(&path)?;
            copy.execute(&format!("DELETE FROM {}", schema::DATA_KEYS), [])?;
        }
        if self.policy.backup.plaintext_export {
            let mut export = serde_json::Map::new();
            for table in self.policy.tables() {
                let rows = read_rows(&inner.db, &mut inner.sealer, table)?;
                export.insert(
                    table.name().to_owned(),
                    serde_json::to_value(rows).unwrap_or_default(),
                );
            }
            std::fs::write(
                paths.replica.join(format!("export-{now}.json")),
                serde_json::Value::Object(export).to_string(),
            )?;
        }
        Ok(Backup {
            taken_at: now,
            path,
        })
    }

    /// The backups in the second region, oldest first.
    pub fn backups(&self) -> Result<Vec<Backup>, StoreError> {
        match &self.paths {
            Some(paths) => backups_in(&paths.replica),
            None => Ok(Vec::new()),
        }
    }

    /// Replaces the primary database (lost or not) with the newest backup, and opens it.
    pub fn restore_from_replica(&self) -> Result<Restored, StoreError> {
        let Some(paths) = &self.paths else {
            return Err(StoreError::NoBackup(PathBuf::new()));
        };
        let newest = backups_in(&paths.replica)?
            .pop()
            .ok_or_else(|| StoreError::NoBackup(paths.replica.clone()))?;
        let mut inner = self.lock();
        // Closed first, so nothing the old connection holds is written over the copy.
        inner.db = rusqlite::Connection::open_in_memory()?;
        for stale in [paths.database.clone(), journal_of(&paths.database)] {
            if stale.exists() {
                std::fs::remove_file(stale)?;
            }
        }
        if let Some(dir) = paths.database.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::copy(&newest.path, &paths.database)?;
        inner.db = connect(&paths.database)?;
        schema::create(&inner.db, &self.policy.tables())?;
        inner.sealer.forget_keys();
        Ok(Restored {
            from: newest,
            at: self.clock.unix_seconds(),
        })
    }
}

fn journal_of(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-journal");
    PathBuf::from(name)
}

pub(super) fn backups_in(dir: &Path) -> Result<Vec<Backup>, StoreError> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e.into()),
    };
    for entry in entries {
        let path = entry?.path();
        let taken = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("store-"))
            .and_then(|n| n.strip_suffix(".sqlite"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(taken_at) = taken {
            found.push(Backup { taken_at, path });
        }
    }
    found.sort_by_key(|b| b.taken_at);
    Ok(found)
}
