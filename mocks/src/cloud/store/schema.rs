//! The store's tables: one per kind of record, each value in a column of its own, sealed
//! apart. What stays readable is structure only: table and column names, row numbers, which
//! data key sealed a row, and a keyed digest (`lookup`) for the records found by a key.

use rusqlite::Connection;

/// A kind of record the cloud keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Table {
    Accounts,
    DmsRegistrations,
    TokenFamilies,
    Shares,
    ShareRecipients,
    ShareOpenings,
    MailOutbox,
    AuditLog,
    /// Only a build that keeps relayed answers has this one (`cloud.store-dashboard-data`).
    AnswerSnapshots,
    /// The refresh keys of every family, by digest: what a rebuilt cloud redeems.
    RefreshKeys,
    /// Each recipient's link of a share, by the digest of its token: what a rebuilt cloud opens.
    ShareLinks,
    /// The accounts each DMS's organisation enabled for remote access.
    RemoteAccessGrants,
}

impl Table {
    pub const ALL: &[Table] = &[
        Table::Accounts,
        Table::DmsRegistrations,
        Table::TokenFamilies,
        Table::Shares,
        Table::ShareRecipients,
        Table::ShareOpenings,
        Table::MailOutbox,
        Table::AuditLog,
        Table::AnswerSnapshots,
        Table::RefreshKeys,
        Table::ShareLinks,
        Table::RemoteAccessGrants,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Accounts => "accounts",
            Table::DmsRegistrations => "dms_registrations",
            Table::TokenFamilies => "token_families",
            Table::Shares => "shares",
            Table::ShareRecipients => "share_recipients",
            Table::ShareOpenings => "share_openings",
            Table::MailOutbox => "mail_outbox",
            Table::AuditLog => "audit_log",
            Table::AnswerSnapshots => "answer_snapshots",
            Table::RefreshKeys => "refresh_keys",
            Table::ShareLinks => "share_links",
            Table::RemoteAccessGrants => "remote_access_grants",
        }
    }

    /// The sealed columns, in the order a record lists its values.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Accounts => &["email", "organization", "password_sha256", "role"],
            Table::DmsRegistrations => &[
                "dms_id",
                "name",
                "organization",
                "key_thumbprint",
                "registered_at",
                "public_key",
            ],
            Table::TokenFamilies => &["family", "dms_id", "organization", "revoked"],
            Table::Shares => &[
                "share_key",
                "share_id",
                "owner",
                "dms_id",
                "dashboard",
                "created_at",
                "expires_at",
                "ended_at",
            ],
            Table::ShareRecipients => &["share_key", "share_id", "email", "added_at"],
            Table::ShareOpenings => &["share_key", "share_id", "email", "opened_at"],
            Table::MailOutbox => &[
                "message_id",
                "sender",
                "recipient",
                "subject",
                "body",
                "queued_at",
            ],
            Table::AuditLog => &["at", "line"],
            Table::AnswerSnapshots => &["dms_id", "method", "request", "answer", "at"],
            Table::RefreshKeys => &["key_sha256", "family", "spent"],
            Table::ShareLinks => &["token_sha256", "share_key", "email"],
            Table::RemoteAccessGrants => &["dms_id", "organization", "accounts"],
        }
    }

    pub fn named(name: &str) -> Option<Table> {
        Table::ALL.iter().copied().find(|t| t.name() == name)
    }
}

/// The table of wrapped data keys: which table each serves and which version of the vault's
/// key-encryption key wraps it.
pub(crate) const DATA_KEYS: &str = "data_keys";

/// The context a data key is wrapped for: its row and the table it serves, so a wrapped key
/// copied onto another row does not unwrap.
pub(crate) fn wrap_context(data_key: i64, serves: &str) -> String {
    format!("{DATA_KEYS}/{data_key}/{serves}")
}

/// What a sealed value is bound to: its table, row and column. A ciphertext moved anywhere
/// else does not open.
pub(crate) fn cell_aad(table: Table, row: i64, column: &str) -> Vec<u8> {
    format!("{}/{row}/{column}", table.name()).into_bytes()
}

/// Creates what is missing of the schema: `tables` and the data keys.
pub(crate) fn create(db: &Connection, tables: &[Table]) -> rusqlite::Result<()> {
    db.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {DATA_KEYS} (id INTEGER PRIMARY KEY, serves TEXT NOT NULL, \
         kek_version INTEGER NOT NULL, wrapped BLOB NOT NULL);"
    ))?;
    for table in tables {
        let columns: String = table
            .columns()
            .iter()
            .map(|c| format!(", {c} BLOB NOT NULL"))
            .collect();
        db.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {} (id INTEGER PRIMARY KEY, lookup BLOB UNIQUE, \
             data_key INTEGER NOT NULL{columns});",
            table.name()
        ))?;
    }
    Ok(())
}
