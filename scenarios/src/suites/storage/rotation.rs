//! ENC-2: the vault's key-encryption key rotates on the schedule the spec figures name, and
//! nothing becomes unreadable: older records read through the rotation, new writes are
//! sealed under data keys the new version wraps, and the re-wrap job moves the rest.

use std::collections::BTreeMap;
use std::time::Duration;

use mocks::Environment;
use mocks::cloud::store::{AuditRecord, DmsRegistration};

use super::reader::{self, StoreFile};
use super::store_paths;
use crate::{Ctx, Failure, oracle, steps};

const DAY: Duration = Duration::from_secs(24 * 3600);

pub(super) async fn keys_rotate_and_old_records_still_read(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let paths = store_paths(&env)?;
    let dms_id = env.accounts().dms_id.clone();
    ev.saw("key versions in use at the start", versions_in_use(&env)?);
    let days = oracle::spec()?.storage.key_rotation_days;
    let days_before = u32::try_from(days.saturating_sub(1)).unwrap_or(u32::MAX);

    steps::let_time_pass(&env, DAY * days_before, days_before).await;
    let before = env.cloud().vault().kek_versions().current;
    env.advance(DAY).await;
    let rotated = env.cloud().vault().kek_versions();
    ev.saw(
        "key versions in use right after the rotation",
        versions_in_use(&env)?,
    );
    ev.expect_eq(
        "kek-rotates-on-schedule",
        &format!("the vault's key version on day {days_before}, and on day {days}"),
        (before, before + 1),
        (before, rotated.current),
    )?;

    // Read right after the rotation, before the re-wrap job ran.
    let store = env.cloud().store();
    let registrations = store.all::<DmsRegistration>().map_err(|e| e.to_string());
    let older_lines = store
        .all::<AuditRecord>()
        .map(|lines| lines.iter().filter(|l| l.at < rotated.since).count())
        .map_err(|e| e.to_string());
    let (_, refused) = reader::decrypt(&env, &reader::read(&paths.database)?);
    ev.expect(
        "records-before-rotation-read-after-it",
        "after the rotation: the cloud's read of the registrations and of the log lines written before it, and values the scenario could not open",
        registrations
            .as_ref()
            .is_ok_and(|r| r.iter().any(|r| r.dms_id == dms_id))
            && older_lines.as_ref().is_ok_and(|n| *n > 0)
            && refused.is_empty(),
        &format!("{dms_id}'s registration and the older lines read; every value opens"),
        (
            registrations.map(|r| r.len()),
            older_lines,
            refused.iter().take(5).collect::<Vec<_>>(),
        ),
    )?;

    let (later, _token) = steps::register_another_dms(&env, "dms-after-rotation").await?;
    let file = reader::read(&paths.database)?;
    let version = registration_key_version(&env, &file, &later);
    ev.expect_eq(
        "new-writes-use-new-key-version",
        &format!("the key version wrapping the data key of {later}'s registration, written after the rotation"),
        Some(rotated.current),
        version,
    )?;

    env.advance(DAY).await;
    let file = reader::read(&paths.database)?;
    let versions = env.cloud().vault().kek_versions();
    ev.saw(
        "key versions in use after the re-wrap job",
        versions_in_use(&env)?,
    );
    let by_version = count_by_version(&file);
    // The versions the backups still hold data keys under stay in the vault (DR-1): a backup
    // is a copy of the moment, which no re-wrap of the primary reaches.
    let mut backups_need = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&paths.replica)
        .map_err(|e| Failure::Harness(format!("listing the second region: {e}")))?
        .flatten()
    {
        if entry.path().extension().is_some_and(|e| e == "sqlite") {
            let backup = reader::read(&entry.path())?;
            backups_need.extend(backup.data_keys.iter().map(|k| k.kek_version));
        }
    }
    let oldest_kept = backups_need
        .first()
        .copied()
        .unwrap_or(versions.current)
        .min(versions.current);
    let still_read = env
        .cloud()
        .store()
        .all::<DmsRegistration>()
        .map(|r| r.len())
        .map_err(|e| e.to_string());
    ev.expect(
        "rewrap-moves-every-data-key",
        "a day after the rotation: data keys by the key version wrapping them, the versions the vault holds, and the registrations read",
        by_version.keys().all(|v| *v == versions.current)
            && versions.held == (oldest_kept..=versions.current).collect::<Vec<_>>()
            && still_read.as_ref().is_ok_and(|n| *n >= 2),
        &format!("every data key wrapped by version {}, the versions older than any backup needs retired ({oldest_kept} and later held), every registration read", versions.current),
        (by_version, &versions.held, &backups_need, still_read),
    )
}

/// The key versions in use: the vault's own account and the scenario's count of the file.
fn versions_in_use(env: &Environment) -> Result<serde_json::Value, Failure> {
    let file = reader::read(&store_paths(env)?.database)?;
    Ok(serde_json::json!({
        "vault": env.cloud().vault().kek_versions(),
        "data_keys_by_key_version_in_the_file": count_by_version(&file),
    }))
}

fn count_by_version(file: &StoreFile) -> BTreeMap<u32, usize> {
    let mut counts = BTreeMap::new();
    for key in &file.data_keys {
        *counts.entry(key.kek_version).or_insert(0) += 1;
    }
    counts
}

/// The key version wrapping the data key that sealed `dms_id`'s registration, as the
/// scenario finds the row by opening the registrations itself.
fn registration_key_version(env: &Environment, file: &StoreFile, dms_id: &str) -> Option<u32> {
    let (keys, _) = reader::unwrap_keys(env, file);
    let cell = file.cells.iter().find(|c| {
        c.table == "dms_registrations"
            && c.column == "dms_id"
            && reader::open(&keys, c).is_ok_and(|v| v == dms_id.as_bytes())
    })?;
    file.data_keys
        .iter()
        .find(|k| k.id == cell.data_key)
        .map(|k| k.kek_version)
}
