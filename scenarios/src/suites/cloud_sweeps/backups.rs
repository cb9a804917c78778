//! DR-1 with ENC-2, over time: the store is backed up several times a day while the vault's
//! key rotates twice and the re-wrap job runs after each rotation. Every backup the second
//! region holds must still open afterwards, each value with the scenario's own SQLite reader
//! and AES-GCM under data keys the vault unwraps for the cloud's managed identity; the report
//! names every backup a rotation made unrestorable. Then the primary is lost and the newest
//! backup restored: the cloud must read every table of it as the scenario reads the backup.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mocks::Environment;
use mocks::cloud::store::Table;

use crate::suites::storage::reader;
use crate::{Ctx, Failure, oracle, steps};

const DAY: Duration = Duration::from_secs(24 * 3600);

/// The sweep's dimension, as its matrix names it.
const DIMENSION: &str = "backups × key rotations";

/// Every backup in the second region, as the scenario finds them: `store-<unix>.sqlite`.
pub(crate) fn backup_files(replica: &Path) -> Result<Vec<(u64, PathBuf)>, Failure> {
    let entries = std::fs::read_dir(replica)
        .map_err(|e| Failure::Harness(format!("listing {}: {e}", replica.display())))?;
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let taken = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("store-"))
            .and_then(|n| n.strip_suffix(".sqlite"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(taken) = taken {
            found.push((taken, path));
        }
    }
    found.sort();
    Ok(found)
}

/// What of a backup did not open: its data keys the vault refused, its values that did not
/// open. Empty when the backup opens whole.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Unrestorable {
    pub taken_at: u64,
    pub keys_refused: Vec<String>,
    pub values_refused: usize,
}

/// The backups among `files` that do not open whole.
pub(crate) fn unrestorable(
    env: &Environment,
    files: &[(u64, PathBuf)],
) -> Result<Vec<Unrestorable>, Failure> {
    let mut found = Vec::new();
    for (taken_at, path) in files {
        let file = reader::read(path)?;
        let (_, refused_keys) = reader::unwrap_keys(env, &file);
        let (_, refused_values) = reader::decrypt(env, &file);
        if !refused_keys.is_empty() || !refused_values.is_empty() {
            found.push(Unrestorable {
                taken_at: *taken_at,
                keys_refused: refused_keys
                    .iter()
                    .map(|(id, why)| format!("data key {id}: {why}"))
                    .collect(),
                values_refused: refused_values.len(),
            });
        }
    }
    Ok(found)
}

pub(crate) async fn every_backup_opens_after_rotations(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let paths = crate::suites::storage::store_paths(&env)?;
    let rotation_days = oracle::spec()?.storage.key_rotation_days;
    // Two rotations and the re-wrap after each, a day at a time.
    let days = u32::try_from(2 * rotation_days + 2).unwrap_or(u32::MAX);
    let first = env.cloud().vault().kek_versions().current;
    steps::let_time_pass(&env, DAY * days, days).await;
    let versions = env.cloud().vault().kek_versions();
    if versions.current < first + 2 {
        return Err(Failure::precondition(
            format!("{days} days of the vault's schedule"),
            "two rotations",
            &versions,
        ));
    }
    let files = backup_files(&paths.replica)?;
    let before_rotations = files.iter().filter(|(at, _)| *at < versions.since).count();
    ev.saw(
        "backups in the second region, and how many were taken before the last rotation",
        (files.len(), before_rotations),
    );
    if before_rotations == 0 {
        return Err(Failure::precondition(
            "backups taken before the rotations",
            "several",
            files.len(),
        ));
    }
    let broken = unrestorable(&env, &files)?;
    for (taken_at, _) in &files {
        let rotated = if *taken_at < versions.since {
            "taken before the last rotation"
        } else {
            "taken after the last rotation"
        };
        ev.row(
            DIMENSION,
            format!("backup taken at {taken_at}"),
            format!("opened after every rotation ({rotated})"),
            match broken.iter().find(|b| b.taken_at == *taken_at) {
                Some(b) => format!(
                    "REFUSED: {} data key(s), {} value(s)",
                    b.keys_refused.len(),
                    b.values_refused
                ),
                None => "opens whole".to_owned(),
            },
        );
    }
    ev.expect(
        "every-backup-opens-after-rotations",
        "backups of the second region that no longer open (taken at, what was refused)",
        broken.is_empty(),
        "none: every backup opens after the rotations",
        &broken,
    )?;

    // The primary is lost after the rotations; the cloud restores the newest backup and must
    // read every table of it as the scenario's own reader reads the backup.
    let (_, newest) = files
        .last()
        .cloned()
        .ok_or_else(|| Failure::precondition("the backups", "one at least", 0))?;
    let mut expected = BTreeMap::new();
    for table in tables_in(&newest)? {
        expected.insert(table.clone(), reader::table_rows(&env, &newest, &table)?);
    }
    let mut journal = paths.database.as_os_str().to_owned();
    journal.push("-journal");
    for file in [paths.database.clone(), PathBuf::from(journal)] {
        if file.exists() {
            std::fs::remove_file(&file)
                .map_err(|e| Failure::Harness(format!("destroying the primary: {e}")))?;
        }
    }
    env.cloud()
        .store()
        .restore_from_replica()
        .map_err(|e| Failure::precondition("restoring from the replica", "restored", e))?;
    let mut differing = Vec::new();
    for (name, rows) in &expected {
        let Some(table) = Table::named(name) else {
            differing.push(format!("{name}: a table the cloud does not know"));
            continue;
        };
        match env.cloud().store().rows(table) {
            Ok(read) => {
                let read: Vec<BTreeMap<String, String>> = read
                    .into_iter()
                    .map(|row| {
                        row.values
                            .into_iter()
                            .map(|(column, value)| (column.to_owned(), value))
                            .collect()
                    })
                    .collect();
                if read != *rows {
                    differing.push(format!(
                        "{name}: {} rows read by the cloud, {} in the backup, not the same",
                        read.len(),
                        rows.len()
                    ));
                }
            }
            Err(e) => differing.push(format!("{name}: {e}")),
        }
    }
    ev.saw(
        "tables compared after the restore",
        expected.keys().collect::<Vec<_>>(),
    );
    for table in expected.keys() {
        let differs = differing
            .iter()
            .find(|d| d.starts_with(&format!("{table}:")));
        ev.row(
            DIMENSION,
            format!("table {table}"),
            "read by the cloud restored from the newest backup",
            differs.map_or_else(
                || "as the backup holds it".to_owned(),
                |d| format!("DIFFERS: {d}"),
            ),
        );
    }
    ev.expect(
        "restore-after-rotations-reads-every-table",
        "tables the restored cloud did not read as the newest backup holds them",
        differing.is_empty() && !expected.is_empty(),
        "none: every table of the newest backup, read back whole",
        &differing,
    )
}

/// The tables of records in the store file at `path`, by the scenario's own connection: every
/// table but the data keys.
fn tables_in(path: &Path) -> Result<Vec<String>, Failure> {
    let db = reader::connect(path)?;
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'data_keys'")
        .and_then(|mut q| q.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| Failure::Harness(format!("listing the tables of {}: {e}", path.display())))
}
