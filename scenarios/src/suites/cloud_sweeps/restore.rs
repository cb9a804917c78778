//! DR-1 as a service, not a file: after backup → changes → primary lost → restore, the cloud
//! serves what it served at the backup and nothing written after it. Before the backup: a
//! share with its link, a DMS whose token family lives, one whose family was revoked. After
//! it: another share and another DMS. Judged on the wire: the environment's DMS comes back
//! with its tunnel, the link of the backup opens its viewer and the later one opens what a
//! made-up link opens, the family of the backup refreshes, the later family and the revoked
//! one do not. And every table of the restored store, read with the scenario's own
//! connection and AES-GCM, holds the backup's rows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mocks::Environment;
use mocks::cloud::{Account, Endpoint};
use serde_json::json;

use super::backups::backup_files;
use crate::clients::{CloudClient, ScriptedDms, Viewer};
use crate::steps::Recipient;
use crate::suites::access::support::{gateway_sign_ins, sign_in};
use crate::suites::sharing::live;
use crate::suites::storage::reader;
use crate::{Ctx, Failure, steps};

const DASHBOARD: &str = "core-network";
const HOUR: Duration = Duration::from_secs(3600);
/// How often the store is backed up at least: a backup falls within one such span.
const BACKUP_SPAN: Duration = Duration::from_secs(6 * 3600 + 60);

/// A DMS the scenario plays through the connect flow, with the pair it was delivered.
struct Paired {
    dms: ScriptedDms,
    access_token: String,
    refresh_key: String,
}

async fn pair(env: &Environment, dms_id: &str) -> Result<Paired, Failure> {
    let browser = CloudClient::new(env)?;
    let cookie = steps::cloud_login(env, &browser).await?;
    let dms = ScriptedDms::new(&CloudClient::new(env)?, dms_id)?;
    let started = dms.started().await?;
    let approval =
        steps::approve_on_page(&browser, Some(&cookie), &started.user_code, dms_id).await?;
    if approval.answer.status != 200 {
        return Err(Failure::precondition(
            format!("approving {dms_id}"),
            "HTTP 200",
            approval.answer,
        ));
    }
    let token = dms.redeem(&started.device_code).await?;
    match (token.field("access_token"), token.field("refresh_token")) {
        (Some(access_token), Some(refresh_key)) => Ok(Paired {
            dms,
            access_token,
            refresh_key,
        }),
        _ => Err(Failure::precondition(
            format!("{dms_id}'s token pair"),
            "an access token and a refresh key",
            token,
        )),
    }
}

/// Every table of the store file at `path` but the data keys, each row opened by the scenario.
fn tables(
    env: &Environment,
    path: &Path,
) -> Result<BTreeMap<String, Vec<BTreeMap<String, String>>>, Failure> {
    let db = reader::connect(path)?;
    let names: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'data_keys'")
        .and_then(|mut q| q.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| Failure::Harness(format!("listing the tables of {}: {e}", path.display())))?;
    drop(db);
    let mut found = BTreeMap::new();
    for name in names {
        let rows = reader::table_rows(env, path, &name)?;
        found.insert(name, rows);
    }
    Ok(found)
}

/// The same link with a token nobody was mailed: what a link the cloud does not know opens.
fn made_up(link: &str) -> Result<String, Failure> {
    link.rsplit_once("/s/")
        .map(|(base, _)| format!("{base}/s/{}", mocks::world::random_token(32)))
        .ok_or_else(|| Failure::precondition("the share link's shape", ".../s/{token}", link))
}

pub(crate) async fn a_restore_brings_back_the_cloud_of_the_backup(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = live::connected(&env).await?;
    let (email, _) = live::partner(&env).await?;
    let paths = crate::suites::storage::store_paths(&env)?;

    // What the backup will hold.
    let before = live::share(&env, &admin, DASHBOARD, &[&email], json!({})).await?;
    let link_before = before.link_for(&email)?.to_owned();
    let kept = pair(&env, "dms-live-at-the-backup").await?;
    let revoked = pair(&env, "dms-revoked-before-the-backup").await?;
    let revocation = revoked.dms.revoke(&revoked.access_token).await?;
    if revocation.status != 200 {
        return Err(Failure::precondition(
            "revoking dms-revoked-before-the-backup's token",
            "HTTP 200",
            revocation,
        ));
    }
    // Roles at the backup: the Member made an Admin.
    let accounts = env.accounts().clone();
    let owner = CloudClient::new(&env)?;
    let owner_cookie = steps::sign_in(&owner, &accounts.cloud_admin).await?;
    change_role(&owner, &owner_cookie, &accounts.cloud_member, "Admin").await?;
    enable_remote_access(&env, &accounts.cloud_member).await?;
    let setup_done = env.clock().unix_seconds();
    steps::let_time_pass(&env, BACKUP_SPAN, 6).await;
    let Some((taken_at, backup)) = backup_files(&paths.replica)?
        .into_iter()
        .rfind(|(at, _)| *at >= setup_done)
    else {
        return Err(Failure::precondition(
            "a backup after the setup",
            "one within six hours",
            backup_files(&paths.replica)?,
        ));
    };
    ev.saw(
        "the backup restored from (taken at, Unix seconds)",
        taken_at,
    );

    // Written after the backup: a restore must not bring these.
    env.advance(HOUR).await;
    let after = live::share(&env, &admin, DASHBOARD, &[&email], json!({})).await?;
    let link_after = after.link_for(&email)?.to_owned();
    let later = pair(&env, "dms-paired-after-the-backup").await?;
    for account in [&accounts.cloud_member, &accounts.cloud_org_admin] {
        change_role(&owner, &owner_cookie, account, "Member").await?;
    }
    enable_remote_access(&env, &accounts.cloud_org_admin).await?;

    let expected = tables(&env, &backup)?;
    lose_the_primary(&paths.database)?;
    let restored =
        env.cloud().restore_from_backup().await.map_err(|e| {
            Failure::precondition("restoring from the second region", "restored", e)
        })?;
    ev.saw("the restore", &restored);
    let read = tables(&env, &paths.database)?;
    let mut differing = Vec::new();
    for (name, rows) in &expected {
        let now = read.get(name).map(Vec::as_slice).unwrap_or_default();
        // The log is appended to as soon as the cloud is back: the backup's lines come first.
        let same = match name.as_str() {
            "audit_log" => now.starts_with(rows),
            _ => now == rows.as_slice(),
        };
        if !same {
            differing.push(format!(
                "{name}: {} rows in the backup, {} in the restored store, not the same",
                rows.len(),
                now.len()
            ));
        }
    }
    ev.saw("tables compared", expected.keys().collect::<Vec<_>>());
    ev.expect(
        "restored-store-holds-every-table-of-the-backup",
        "tables of the restored store (read by the scenario) that differ from the backup's",
        differing.is_empty() && expected.len() > 1,
        "none: every table of the backup, row for row",
        &differing,
    )?;

    // The DMS comes back with the token it holds: its tunnels are up again.
    steps::let_time_pass(&env, Duration::from_secs(300), 30).await;
    steps::tunnels_up(&env).await?;
    let (_, partner) = live::partner(&env).await?;
    let opened_before = partner.open(&link_before).await?;
    let viewer_before = Viewer::of(&opened_before).is_some();
    let opened_after = partner.open(&link_after).await?.status;
    let unknown = partner.open(&made_up(&link_before)?).await?.status;
    ev.saw(
        "links after the restore: of the backup, made after it, made up (HTTP status)",
        (opened_before.status, opened_after, unknown),
    );
    ev.expect(
        "link-of-the-backup-opens",
        "the link mailed before the backup, opened by its recipient after the restore",
        viewer_before,
        "HTTP 200 with the DMS's dashboard app",
        opened_before.status,
    )?;
    ev.expect(
        "link-made-after-the-backup-does-not-open",
        "the link mailed after the backup, opened by its recipient after the restore: HTTP status",
        opened_after == unknown && opened_after != 200,
        &format!("what a made-up link gets ({unknown})"),
        opened_after,
    )?;

    // Both were Admins at the backup and Members after it.
    let mut listings = Vec::new();
    for account in [&accounts.cloud_member, &accounts.cloud_org_admin] {
        listings.push(administers(&env, account).await?);
    }
    ev.expect_eq(
        "roles-of-the-backup-are-served",
        "the organisation's remote-access listing, asked after the restore by the two accounts that were Admins at the backup and made Members after it: HTTP statuses",
        vec![200, 200],
        listings,
    )?;

    // Remote access was the Member's at the backup, the Admin's after it.
    let viewer = &accounts.dms_viewer;
    let mut reached = Vec::new();
    for account in [&accounts.cloud_member, &accounts.cloud_org_admin] {
        let remote = Recipient::signed_in_as(&env, account).await?;
        let before = gateway_sign_ins(&env);
        let (status, _) =
            sign_in(&remote, &accounts.dms_id, &viewer.login, &viewer.password).await?;
        reached.push((status, gateway_sign_ins(&env) - before));
    }
    ev.expect_eq(
        "remote-access-of-the-backup-is-served",
        "a remote sign-in after the restore by the account enabled at the backup, then by the one enabled after it: (HTTP status, sign-ins that reached the DMA)",
        vec![(200, 1), (403, 0)],
        reached,
    )?;

    let refreshed = kept.dms.refresh(&kept.refresh_key).await?;
    ev.expect(
        "family-of-the-backup-refreshes",
        "refresh of a family live at the backup, with its refresh key, after the restore: HTTP status",
        refreshed.status == 200 && refreshed.field("access_token").is_some(),
        "200 with a new token",
        refreshed.status,
    )?;
    let refreshed_later = later.dms.refresh(&later.refresh_key).await?;
    ev.expect(
        "family-issued-after-the-backup-refused",
        "refresh of a family issued after the backup, after the restore: HTTP status",
        refreshed_later.status != 200 && refreshed_later.field("access_token").is_none(),
        "refused: the restored cloud never issued it",
        &refreshed_later,
    )?;
    let refreshed_revoked = revoked.dms.refresh(&revoked.refresh_key).await?;
    ev.expect(
        "family-revoked-before-the-backup-stays-revoked",
        "refresh of a family revoked before the backup, after the restore: HTTP status",
        refreshed_revoked.status != 200 && refreshed_revoked.field("access_token").is_none(),
        "refused: the revocation is in the backup",
        &refreshed_revoked,
    )
}

/// The Owner sets `account`'s role; anything but HTTP 200 is a failed setup step.
async fn change_role(
    owner: &CloudClient,
    cookie: &str,
    account: &Account,
    role: &str,
) -> Result<(), Failure> {
    match steps::set_role(owner, cookie, account, role).await? {
        200 => Ok(()),
        status => Err(Failure::precondition(
            format!("making {} {role}", account.email),
            "HTTP 200",
            status,
        )),
    }
}

/// The Owner enables remote access on the environment's DMS for `account` alone.
async fn enable_remote_access(env: &Environment, account: &Account) -> Result<(), Failure> {
    let accounts = env.accounts();
    let answer =
        steps::set_remote_access(env, &accounts.cloud_admin, &accounts.dms_id, &[account]).await?;
    match answer.status {
        200 => Ok(()),
        _ => Err(Failure::precondition(
            format!("enabling remote access for {}", account.email),
            "HTTP 200",
            answer,
        )),
    }
}

/// What the admin API answers `account` (freshly signed in) for the organisation's
/// remote-access listing of the environment's DMS: 200 to an Owner or Admin.
async fn administers(env: &Environment, account: &Account) -> Result<u16, Failure> {
    let browser = CloudClient::new(env)?;
    let cookie = steps::sign_in(&browser, account).await?;
    let path = format!("api/org/remote-access?dms_id={}", env.accounts().dms_id);
    Ok(browser
        .open(Endpoint::Connection, &path, Some(&cookie))
        .await?
        .status)
}

/// The primary region's database is gone, journal and all.
fn lose_the_primary(database: &Path) -> Result<(), Failure> {
    let mut journal = database.as_os_str().to_owned();
    journal.push("-journal");
    for file in [database.to_owned(), PathBuf::from(journal)] {
        if file.exists() {
            std::fs::remove_file(&file)
                .map_err(|e| Failure::Harness(format!("destroying the primary: {e}")))?;
        }
    }
    Ok(())
}
