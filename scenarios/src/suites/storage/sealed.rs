//! ENC-1: what the cloud stores is ciphertext, and each ciphertext opens only where it was
//! written.

use mocks::cloud::store::AccountRecord;

use super::reader::{self, StoreFile};
use super::sharing::{self, RECIPIENT};
use super::{known_values, plaintext_found, store_paths};
use crate::{Ctx, Failure, oracle, steps};

pub(super) async fn no_stored_byte_is_plaintext(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = steps::connect_dms(&env).await?;
    let share_id = sharing::share_and_open(&env, &admin).await?;
    ev.saw("the share the recipient opened", &share_id);
    let paths = store_paths(&env)?;
    let file = reader::read(&paths.database)?;
    let missing = sharing::tables_without_rows(&file);
    ev.expect(
        "sharing-records-kept-in-the-store",
        "tables of the sharing path with no row in the store file, after a share was made, mailed and opened",
        missing.is_empty(),
        "none",
        &missing,
    )?;
    let files = reader::files_under(&paths.root)?;
    ev.saw(
        "the cloud's files",
        files.iter().map(|(p, b)| (p, b.len())).collect::<Vec<_>>(),
    );
    let mut values = known_values(&env);
    values.extend([
        (
            format!("recipient {RECIPIENT}"),
            RECIPIENT.as_bytes().to_vec(),
        ),
        (format!("share {share_id}"), share_id.clone().into_bytes()),
    ]);
    ev.saw("values the cloud was given to keep", values.len());
    let found = plaintext_found(&files, &values);
    ev.expect(
        "no-plaintext-in-store-files",
        "values the cloud keeps, found in its files in any spelling",
        found.is_empty(),
        "none",
        &found,
    )?;

    ev.saw("the store's data keys", &file.data_keys);
    let (keys, refused) = reader::unwrap_keys(&env, &file);
    let key_bytes = oracle::spec()?.storage.cipher_key_bytes;
    let wrong: Vec<String> = keys
        .iter()
        .filter(|(_, k)| k.len() != key_bytes)
        .map(|(id, k)| format!("data key {id}: {} bytes", k.len()))
        .chain(
            refused
                .iter()
                .map(|(id, why)| format!("data key {id}: {why}")),
        )
        .collect();
    ev.expect(
        "data-keys-are-256-bit-and-wrapped-by-the-vault",
        "data keys the vault did not unwrap for the managed identity, or not of AES-256's size",
        !file.data_keys.is_empty() && wrong.is_empty(),
        &format!("every data key unwraps to {key_bytes} bytes"),
        (&wrong, file.data_keys.len()),
    )
}

pub(super) async fn a_sealed_value_opens_only_in_its_place(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let paths = store_paths(&env)?;
    let file = reader::read(&paths.database)?;
    let rows = account_rows(&file);
    let [a, b, ..] = rows[..] else {
        return Err(Failure::precondition(
            "the accounts in the store",
            "at least two rows",
            rows,
        ));
    };

    // Each account's organisation decides what it may approve and reach: swapping them in
    // the file would give the outsider the customer's organisation.
    let db = reader::connect(&paths.database)?;
    let swap = |db: &rusqlite::Connection| {
        let broke =
            |e: rusqlite::Error| Failure::Harness(format!("swapping ciphertexts in the file: {e}"));
        let of = |row: i64| {
            db.query_row(
                "SELECT organization FROM accounts WHERE id = ?1",
                [row],
                |r| r.get::<_, Vec<u8>>(0),
            )
            .map_err(broke)
        };
        let (at_a, at_b) = (of(a)?, of(b)?);
        for (row, value) in [(a, at_b), (b, at_a)] {
            db.execute(
                "UPDATE accounts SET organization = ?1 WHERE id = ?2",
                rusqlite::params![value, row],
            )
            .map_err(broke)?;
        }
        Ok::<(), Failure>(())
    };
    swap(&db)?;
    let read = env.cloud().store().all::<AccountRecord>();
    ev.saw("the cloud's read after the swap", format!("{read:?}"));
    ev.expect(
        "swapped-ciphertext-refused",
        "the cloud's read of the accounts after two rows' organisation ciphertexts were swapped in its file",
        read.is_err(),
        "refused: a value sealed for another row does not open",
        read.map(|r| r.into_iter().map(|a| (a.email, a.organization)).collect::<Vec<_>>())
            .map_err(|e| e.to_string()),
    )?;
    swap(&db)?;
    env.cloud()
        .store()
        .all::<AccountRecord>()
        .map_err(|e| Failure::precondition("the accounts swapped back", "read", e))?;

    let file = reader::read(&paths.database)?;
    let (opened, refused) = reader::decrypt(&env, &file);
    ev.saw("values opened by the scenario", opened.len());
    ev.expect(
        "every-value-opens-as-aes-256-gcm-in-its-place",
        "stored values that do not open as AES-256-GCM under their data key, bound to their table, row and column",
        !opened.is_empty() && refused.is_empty(),
        "none",
        refused,
    )
}

/// The row IDs of the accounts table, as the file has them.
fn account_rows(file: &StoreFile) -> Vec<i64> {
    let mut rows: Vec<i64> = file
        .cells
        .iter()
        .filter(|c| c.table == "accounts" && c.column == "organization")
        .map(|c| c.row)
        .collect();
    rows.dedup();
    rows
}
