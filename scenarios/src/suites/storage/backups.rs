//! DR-1: backups reach the second region several times a simulated day, sealed as the store
//! is; the primary is destroyed, the store restored from the replica, and every record older
//! than the last backup is back. The recovery point is measured on the records themselves:
//! the time from the newest record that survived to the loss.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use mocks::Environment;

use super::reader::{self, StoreFile};
use super::{known_values, plaintext_found, store_paths};
use crate::{Ctx, Failure, oracle, steps};

const DAY: Duration = Duration::from_secs(24 * 3600);
const HOUR: Duration = Duration::from_secs(3600);

pub(super) async fn restore_loses_nothing_before_the_last_backup(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let paths = store_paths(&env)?;
    let per_day = oracle::spec()?.storage.backups_per_day_min;
    let day_began = env.clock().unix_seconds();
    steps::let_time_pass(&env, DAY, 24).await;

    let backups = backups_in(&paths.replica)?;
    let in_the_day: Vec<u64> = backups
        .iter()
        .map(|(at, _)| *at)
        .filter(|at| *at > day_began)
        .collect();
    ev.saw(
        "backups in the second region (taken at, Unix seconds)",
        &in_the_day,
    );
    ev.expect(
        "backed-up-several-times-a-day",
        "backups taken in the second region during one simulated day",
        in_the_day.len() as u64 >= per_day
            && paths.database.parent() != Some(paths.replica.as_path()),
        &format!("at least {per_day}, in a directory apart from the primary's"),
        in_the_day.len(),
    )?;

    let replica = reader::files_under(&paths.replica)?;
    let found = plaintext_found(&replica, &known_values(&env));
    ev.expect(
        "backups-hold-no-plaintext",
        "values the cloud keeps, found in the second region's files in any spelling",
        found.is_empty(),
        "none",
        &found,
    )?;
    let Some((last_backup, newest)) = backups.last().cloned() else {
        return Err(Failure::precondition(
            "the backups",
            "one at least",
            backups,
        ));
    };
    let (opened, refused) = reader::decrypt(&env, &reader::read(&newest)?);
    ev.expect(
        "backups-open-under-the-vaults-keys",
        "values of the newest backup that do not open as AES-256-GCM under data keys the vault unwraps",
        !opened.is_empty() && refused.is_empty(),
        "none: the backup is sealed as the store is",
        refused.iter().take(5).collect::<Vec<_>>(),
    )?;

    // Written after the last backup: these may be lost, nothing older may.
    env.advance(HOUR).await;
    steps::register_another_dms(&env, "dms-after-the-backup").await?;
    let before = log_lines(&env, &reader::read(&paths.database)?);
    let lost_at = env.clock().unix_seconds();
    for file in [paths.database.clone(), journal(&paths.database)] {
        if file.exists() {
            std::fs::remove_file(&file)
                .map_err(|e| Failure::Harness(format!("destroying the primary: {e}")))?;
        }
    }
    let restored = env
        .cloud()
        .store()
        .restore_from_replica()
        .map_err(|e| Failure::precondition("restoring from the replica", "restored", e))?;
    ev.saw("the restore", &restored);
    let after = log_lines(&env, &reader::read(&paths.database)?);
    let missing: Vec<&(u64, String)> = before
        .iter()
        .filter(|(at, _)| *at < last_backup)
        .filter(|line| !after.contains(line))
        .collect();
    ev.saw(
        "log records before the loss and after the restore",
        (before.len(), after.len()),
    );
    ev.expect(
        "nothing-before-the-last-backup-lost",
        "log records older than the last backup that the restored store lacks",
        !before.is_empty() && missing.is_empty(),
        "none",
        missing.iter().take(5).collect::<Vec<_>>(),
    )?;
    let newest_kept = after.iter().map(|(at, _)| *at).max().unwrap_or(0);
    let recovery_point = lost_at.saturating_sub(newest_kept);
    ev.saw("recovery point measured (seconds)", recovery_point);
    let bound = DAY.as_secs() / per_day.max(1);
    ev.expect(
        "recovery-point-within-the-backup-interval",
        "seconds from the newest record the restore brought back to the loss",
        recovery_point <= bound,
        &format!("at most {bound}"),
        recovery_point,
    )?;

    // The restored store takes writes again.
    steps::register_another_dms(&env, "dms-after-the-restore").await?;
    let file = reader::read(&paths.database)?;
    let (keys, _) = reader::unwrap_keys(&env, &file);
    let registered = file.cells.iter().any(|c| {
        c.table == "dms_registrations"
            && reader::open(&keys, c).is_ok_and(|v| v == b"dms-after-the-restore")
    });
    ev.expect(
        "restored-store-takes-writes",
        "a DMS registered after the restore, in the restored store",
        registered,
        "dms-after-the-restore's registration",
        registered,
    )
}

/// The log records in `file`, opened by the scenario: `(at, line)`.
fn log_lines(env: &Environment, file: &StoreFile) -> BTreeSet<(u64, String)> {
    let (keys, _) = reader::unwrap_keys(env, file);
    let mut rows: std::collections::BTreeMap<i64, (Option<u64>, Option<String>)> =
        Default::default();
    for cell in file.cells.iter().filter(|c| c.table == "audit_log") {
        let Ok(value) = reader::open(&keys, cell) else {
            continue;
        };
        let text = String::from_utf8_lossy(&value).into_owned();
        let row = rows.entry(cell.row).or_default();
        match cell.column.as_str() {
            "at" => row.0 = text.parse().ok(),
            "line" => row.1 = Some(text),
            _ => {}
        }
    }
    rows.into_values()
        .filter_map(|(at, line)| Some((at?, line?)))
        .collect()
}

/// The backups in `dir` as their names say: `store-<unix seconds>.sqlite`, oldest first.
fn backups_in(dir: &Path) -> Result<Vec<(u64, std::path::PathBuf)>, Failure> {
    let mut found: Vec<(u64, std::path::PathBuf)> = reader::files_under(dir)?
        .into_iter()
        .filter_map(|(path, _)| {
            let at = Path::new(&path)
                .file_name()?
                .to_str()?
                .strip_prefix("store-")?
                .strip_suffix(".sqlite")?
                .parse()
                .ok()?;
            Some((at, path.into()))
        })
        .collect();
    found.sort();
    Ok(found)
}

fn journal(database: &Path) -> std::path::PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-journal");
    name.into()
}
