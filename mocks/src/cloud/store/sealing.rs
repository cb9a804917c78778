//! Envelope encryption of the store's values. Each table has a data key (AES-256), made
//! fresh from the CSPRNG and kept only wrapped by the vault's key-encryption key; a rotation
//! of that key gives each table a new data key for new writes, and the re-wrap job later
//! moves the older data keys to the new version. Unwrapped keys are cached until the next
//! rotation, so a retired key version stops opening anything once it is gone.

use std::collections::HashMap;
use std::sync::Arc;

use hmac::{KeyInit, Mac};
use rusqlite::{Connection, OptionalExtension, params};

use super::policy::Sealing;
use super::schema::{DATA_KEYS, cell_aad, wrap_context};
use super::{StoreError, Table};
use crate::cloud::cipher::{fresh_key, open, seal};
use crate::cloud::vault::{Credential, KeyVault, WrappedKey};

/// What the data key of the index serves: the keyed digests in `lookup` columns.
const LOOKUP_KEY: &str = "(lookup)";

/// Seals and opens values, holding unwrapped data keys in memory only.
pub(crate) struct Sealer {
    vault: Arc<KeyVault>,
    identity: Credential,
    pub policy: Sealing,
    /// Unwrapped data keys by row of `data_keys`.
    keys: HashMap<i64, [u8; 32]>,
    /// Per table served, the data key new writes use and the key version it was made under.
    current: HashMap<String, (i64, u32)>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    pub fn new(vault: Arc<KeyVault>, identity: Credential, policy: Sealing) -> Self {
        Self {
            vault,
            identity,
            policy,
            keys: HashMap::new(),
            current: HashMap::new(),
        }
    }

    /// Forgets every unwrapped key: after a rotation, and when the database is replaced.
    pub fn forget_keys(&mut self) {
        self.keys.clear();
        self.current.clear();
    }

    fn sealed(&self, table: Table, column: &str) -> bool {
        self.policy.enabled
            && !self
                .policy
                .plain_columns
                .iter()
                .any(|(t, c)| *t == table.name() && *c == column)
    }

    /// The data key a write to rows serving `serves` uses: the current one, or a new one when
    /// the vault's key has rotated since it was made.
    fn write_key(&mut self, db: &Connection, serves: &str) -> Result<(i64, [u8; 32]), StoreError> {
        let version = self.vault.kek_versions().current;
        if let Some(&(id, made_under)) = self.current.get(serves)
            && made_under == version
        {
            return Ok((id, self.key(db, id)?));
        }
        if serves == LOOKUP_KEY
            && let Some(id) = db
                .query_row(
                    &format!("SELECT id FROM {DATA_KEYS} WHERE serves = ?1 ORDER BY id LIMIT 1"),
                    params![serves],
                    |row| row.get::<_, i64>(0),
                )
                .optional()?
        {
            // The index keeps one key for its life, or lookups of older rows would miss.
            self.current.insert(serves.to_owned(), (id, version));
            return Ok((id, self.key(db, id)?));
        }
        let key = fresh_key();
        let id: i64 = db.query_row(
            &format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {DATA_KEYS}"),
            [],
            |row| row.get(0),
        )?;
        let wrapped = self
            .vault
            .wrap(&self.identity, &wrap_context(id, serves), &key)?;
        db.execute(
            &format!(
                "INSERT INTO {DATA_KEYS} (id, serves, kek_version, wrapped) VALUES (?1, ?2, ?3, ?4)"
            ),
            params![id, serves, wrapped.version, wrapped.bytes],
        )?;
        self.keys.insert(id, key);
        self.current
            .insert(serves.to_owned(), (id, wrapped.version));
        Ok((id, key))
    }

    /// The data key of row `id` of `data_keys`, unwrapped by the vault when not cached.
    fn key(&mut self, db: &Connection, id: i64) -> Result<[u8; 32], StoreError> {
        if let Some(key) = self.keys.get(&id) {
            return Ok(*key);
        }
        let (serves, version, bytes): (String, u32, Vec<u8>) = db
            .query_row(
                &format!("SELECT serves, kek_version, wrapped FROM {DATA_KEYS} WHERE id = ?1"),
                params![id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?
            .ok_or(StoreError::NoDataKey(id))?;
        let unwrapped = self.vault.unwrap(
            &self.identity,
            &wrap_context(id, &serves),
            &WrappedKey { version, bytes },
        )?;
        let key: [u8; 32] = unwrapped
            .try_into()
            .map_err(|_| StoreError::NoDataKey(id))?;
        self.keys.insert(id, key);
        Ok(key)
    }

    /// The data key a new row of `table` is sealed with (0 when nothing is sealed).
    pub fn data_key_for(&mut self, db: &Connection, table: Table) -> Result<i64, StoreError> {
        if !self.policy.enabled {
            return Ok(0);
        }
        Ok(self.write_key(db, table.name())?.0)
    }

    /// `value` as stored in `column` of row `row` of `table`, sealed with data key `key_id`.
    pub fn seal(
        &mut self,
        db: &Connection,
        table: Table,
        row: i64,
        column: &str,
        key_id: i64,
        value: &str,
    ) -> Result<Vec<u8>, StoreError> {
        if !self.sealed(table, column) {
            return Ok(value.as_bytes().to_vec());
        }
        let key = self.key(db, key_id)?;
        Ok(seal(&key, &self.aad(table, row, column), value.as_bytes())?)
    }

    /// The value stored in `column` of row `row`, opened; refused when it was sealed for
    /// another place.
    pub fn open(
        &mut self,
        db: &Connection,
        table: Table,
        row: i64,
        column: &'static str,
        key_id: i64,
        stored: &[u8],
    ) -> Result<String, StoreError> {
        let plain = if self.sealed(table, column) {
            let key = self.key(db, key_id)?;
            open(&key, &self.aad(table, row, column), stored).map_err(|_| StoreError::Refused {
                table: table.name(),
                row,
                column,
            })?
        } else {
            stored.to_vec()
        };
        String::from_utf8(plain).map_err(|_| StoreError::Malformed {
            table: table.name(),
            column,
        })
    }

    fn aad(&self, table: Table, row: i64, column: &str) -> Vec<u8> {
        if self.policy.bind_to_cell {
            cell_aad(table, row, column)
        } else {
            Vec::new()
        }
    }

    /// What a record of `table` with key `key` is found by: a keyed HMAC-SHA256 of it, so
    /// the index says nothing of the key to whoever reads the file.
    pub fn lookup(
        &mut self,
        db: &Connection,
        table: Table,
        key: &str,
    ) -> Result<Vec<u8>, StoreError> {
        if !self.policy.enabled {
            return Ok(key.as_bytes().to_vec());
        }
        let (_, index_key) = self.write_key(db, LOOKUP_KEY)?;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&index_key)
            .map_err(|_| StoreError::NoDataKey(0))?;
        mac.update(table.name().as_bytes());
        mac.update(&[0]);
        mac.update(key.as_bytes());
        Ok(mac.finalize().into_bytes().to_vec())
    }

    /// Moves every data key wrapped by an older version to the current one. Returns how many
    /// it moved, and the first key it could not (whose rows are then unreadable).
    pub fn rewrap(&mut self, db: &Connection) -> (usize, Option<StoreError>) {
        let current = self.vault.kek_versions().current;
        let older: Vec<(i64, String)> = match db
            .prepare(&format!(
                "SELECT id, serves FROM {DATA_KEYS} WHERE kek_version < ?1 ORDER BY id"
            ))
            .and_then(|mut s| {
                s.query_map(params![current], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            }) {
            Ok(older) => older,
            Err(e) => return (0, Some(e.into())),
        };
        let mut moved = 0;
        for (id, serves) in older {
            let rewrapped = self.key(db, id).and_then(|key| {
                let wrapped = self
                    .vault
                    .wrap(&self.identity, &wrap_context(id, &serves), &key)?;
                db.execute(
                    &format!("UPDATE {DATA_KEYS} SET kek_version = ?1, wrapped = ?2 WHERE id = ?3"),
                    params![wrapped.version, wrapped.bytes, id],
                )?;
                Ok(())
            });
            match rewrapped {
                Ok(()) => moved += 1,
                Err(e) => return (moved, Some(e)),
            }
        }
        (moved, None)
    }
}
