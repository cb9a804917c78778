//! Which versions of the key-encryption key the second region still needs. A backup is a copy
//! of the database as it stood: its data keys stay wrapped by the versions of that moment,
//! whatever the primary's re-wrap does later. A version is retired only once no backup holds
//! a data key it wraps, so every backup opens after any number of rotations (DR-1 with ENC-2).

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::schema::DATA_KEYS;
use super::{StoreError, backup};

/// The oldest key version a data key of any backup in `replica` is wrapped by; `None` when
/// no backup holds a data key.
pub(super) fn oldest_version_backups_need(replica: &Path) -> Result<Option<u32>, StoreError> {
    let mut oldest: Option<u32> = None;
    for found in backup::backups_in(replica)? {
        let db = Connection::open_with_flags(&found.path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let in_it: Option<u32> = db
            .query_row(
                &format!("SELECT MIN(kek_version) FROM {DATA_KEYS}"),
                [],
                |row| row.get(0),
            )
            .optional()?
            .flatten();
        oldest = match (oldest, in_it) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    Ok(oldest)
}
