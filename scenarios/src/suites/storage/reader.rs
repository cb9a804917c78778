//! The scenarios' own reader of the cloud's store: its own SQLite connection to the file, its
//! own AES-256-GCM. Only the data keys come from the cloud's side: the vault unwraps them for
//! the cloud's managed identity, the auditor's privilege (`Cloud::managed_identity`). The
//! format it reads is the one docs/walkthrough.md states: a table per kind of record, one
//! sealed BLOB per value, `nonce (12) || ciphertext || tag (16)`, bound to
//! `<table>/<row id>/<column>`; data keys in `data_keys`, wrapped for
//! `data_keys/<id>/<table served>`.

use std::collections::BTreeMap;
use std::path::Path;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Nonce, Payload};
use mocks::Environment;
use mocks::cloud::WrappedKey;
use rusqlite::{Connection, OpenFlags};

use crate::Failure;

/// Columns every table has that are structure, not values.
const STRUCTURE: &[&str] = &["id", "lookup", "data_key"];

/// One stored value as the file holds it.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Cell {
    pub table: String,
    pub row: i64,
    pub column: String,
    pub data_key: i64,
    #[serde(skip)]
    pub stored: Vec<u8>,
}

impl Cell {
    pub fn place(&self) -> String {
        format!("{}/{}/{}", self.table, self.row, self.column)
    }
}

/// A wrapped data key as the file holds it.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct DataKey {
    pub id: i64,
    pub serves: String,
    pub kek_version: u32,
    #[serde(skip)]
    pub wrapped: Vec<u8>,
}

/// Everything in one store file.
#[derive(Debug, Clone, Default)]
pub(crate) struct StoreFile {
    pub cells: Vec<Cell>,
    pub data_keys: Vec<DataKey>,
}

fn harness(what: &str) -> impl Fn(rusqlite::Error) -> Failure + '_ {
    move |e| Failure::Harness(format!("reading the store file ({what}): {e}"))
}

/// The scenario's own writable connection to a store file.
pub(crate) fn connect(path: &Path) -> Result<Connection, Failure> {
    let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(harness("open"))?;
    db.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(harness("busy timeout"))?;
    Ok(db)
}

/// Every value and data key in the file at `path`.
pub(crate) fn read(path: &Path) -> Result<StoreFile, Failure> {
    let db = connect(path)?;
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut q| q.query_map([], |r| r.get(0))?.collect())
        .map_err(harness("tables"))?;
    let mut file = StoreFile::default();
    for table in tables {
        if table == "data_keys" {
            file.data_keys = db
                .prepare("SELECT id, serves, kek_version, wrapped FROM data_keys ORDER BY id")
                .and_then(|mut q| {
                    q.query_map([], |r| {
                        Ok(DataKey {
                            id: r.get(0)?,
                            serves: r.get(1)?,
                            kek_version: r.get(2)?,
                            wrapped: r.get(3)?,
                        })
                    })?
                    .collect()
                })
                .map_err(harness("data keys"))?;
            continue;
        }
        let columns: Vec<String> = db
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .and_then(|mut q| q.query_map([], |r| r.get(0))?.collect())
            .map_err(harness("columns"))?;
        let values: Vec<&String> = columns
            .iter()
            .filter(|c| !STRUCTURE.contains(&c.as_str()))
            .collect();
        let listed: Vec<&str> = values.iter().map(|c| c.as_str()).collect();
        let mut query = db
            .prepare(&format!(
                "SELECT id, data_key, {} FROM {table} ORDER BY id",
                listed.join(", ")
            ))
            .map_err(harness("rows"))?;
        let rows = query
            .query_map([], |r| {
                let mut cells = Vec::new();
                for (i, column) in listed.iter().enumerate() {
                    cells.push(Cell {
                        table: table.clone(),
                        row: r.get(0)?,
                        column: (*column).to_owned(),
                        data_key: r.get(1)?,
                        stored: r.get::<_, Vec<u8>>(i + 2)?,
                    });
                }
                Ok(cells)
            })
            .map_err(harness("rows"))?;
        for row in rows {
            file.cells.extend(row.map_err(harness("row"))?);
        }
    }
    Ok(file)
}

/// Data keys unwrapped by the vault for the cloud's managed identity, by ID; the keys it
/// would not unwrap, with its reason.
pub(crate) fn unwrap_keys(
    env: &Environment,
    file: &StoreFile,
) -> (BTreeMap<i64, Vec<u8>>, BTreeMap<i64, String>) {
    let cloud = env.cloud();
    let mut keys = BTreeMap::new();
    let mut refused = BTreeMap::new();
    for key in &file.data_keys {
        let wrapped = WrappedKey {
            version: key.kek_version,
            bytes: key.wrapped.clone(),
        };
        let context = format!("data_keys/{}/{}", key.id, key.serves);
        match cloud
            .vault()
            .unwrap(cloud.managed_identity(), &context, &wrapped)
        {
            Ok(k) => {
                keys.insert(key.id, k);
            }
            Err(e) => {
                refused.insert(key.id, e.to_string());
            }
        }
    }
    (keys, refused)
}

/// `cell` opened as AES-256-GCM under its data key, bound to its own place.
pub(crate) fn open(keys: &BTreeMap<i64, Vec<u8>>, cell: &Cell) -> Result<Vec<u8>, String> {
    let key = keys
        .get(&cell.data_key)
        .ok_or_else(|| format!("no data key {}", cell.data_key))?;
    if key.len() != 32 {
        return Err(format!("a {}-byte data key, not AES-256", key.len()));
    }
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|e| e.to_string())?;
    let (nonce, body) = cell
        .stored
        .split_at_checked(12)
        .ok_or("shorter than a nonce")?;
    let nonce = Nonce::<Aes256Gcm>::try_from(nonce).map_err(|e| e.to_string())?;
    let aad = cell.place();
    cipher
        .decrypt(
            &nonce,
            Payload {
                msg: body,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| "does not open as AES-256-GCM bound to its place".to_owned())
}

/// Named bytes: where each came from, and what it holds.
pub(crate) type Places = Vec<(String, Vec<u8>)>;

/// Every cell of `file` opened, by place; the cells that did not open, with the reason.
pub(crate) fn decrypt(env: &Environment, file: &StoreFile) -> (Places, Vec<(String, String)>) {
    let (keys, _) = unwrap_keys(env, file);
    let mut opened = Vec::new();
    let mut refused = Vec::new();
    for cell in &file.cells {
        match open(&keys, cell) {
            Ok(plain) => opened.push((cell.place(), plain)),
            Err(why) => refused.push((cell.place(), why)),
        }
    }
    (opened, refused)
}

/// Every file under `dir`, with its bytes: what a search of the cloud's disk covers.
pub(crate) fn files_under(dir: &Path) -> Result<Places, Failure> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| Failure::Harness(format!("listing {}: {e}", dir.display())))?;
        for entry in entries {
            let path = entry
                .map_err(|e| Failure::Harness(format!("listing {}: {e}", dir.display())))?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                // A file the cloud removed between listing and reading holds nothing now.
                found.push((path.display().to_string(), bytes));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The rows of `table` in the store file at `path`, each value opened with the scenario's own
/// AES-GCM: column → text, in row order. A value that does not open is a harness error here:
/// the callers judge what the rows say, not whether they open.
pub(crate) fn table_rows(
    env: &Environment,
    path: &Path,
    table: &str,
) -> Result<Vec<BTreeMap<String, String>>, Failure> {
    let file = read(path)?;
    let (keys, _) = unwrap_keys(env, &file);
    let mut rows: BTreeMap<i64, BTreeMap<String, String>> = BTreeMap::new();
    for cell in file.cells.iter().filter(|c| c.table == table) {
        let plain = open(&keys, cell)
            .map_err(|why| Failure::Harness(format!("{}: {why}", cell.place())))?;
        rows.entry(cell.row).or_default().insert(
            cell.column.clone(),
            String::from_utf8_lossy(&plain).into_owned(),
        );
    }
    Ok(rows.into_values().collect())
}
