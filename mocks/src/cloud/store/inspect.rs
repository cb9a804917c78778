//! An operator's view of a store file: any copy (the primary, a backup) opened apart from the
//! live connection and decrypted with the vault's keys as the managed identity. What
//! `conform store decrypt` prints through `env up`'s control endpoint.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{Row, Store, StoreError, Table, read_rows, sealing};

impl Store {
    /// Every table of the store file at `path`, each value opened; a table this build does
    /// not know is left out, a value that does not open fails the whole read.
    pub fn decrypt_file(
        &self,
        path: &Path,
    ) -> Result<BTreeMap<&'static str, Vec<Row>>, StoreError> {
        let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let present: Vec<String> = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut sealer = sealing::Sealer::new(
            self.vault.clone(),
            self.identity.clone(),
            self.policy.sealing.clone(),
        );
        present
            .iter()
            .filter_map(|name| Table::named(name))
            .map(|table| Ok((table.name(), read_rows(&db, &mut sealer, table)?)))
            .collect()
    }
}
