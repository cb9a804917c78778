//! The records the cloud keeps, one type per table. A record lists its values in its table's
//! column order and names the key it is found by when the store keeps one record per key.

use super::{StoreError, Table};

/// A kind of record the store keeps.
pub trait Record: Sized {
    const TABLE: Table;
    /// What the record is found by when the store keeps one per key (a later `put` replaces
    /// it); `None` for records that are only ever appended.
    fn key(&self) -> Option<String>;
    fn values(&self) -> Vec<String>;
    fn from_values(values: Vec<String>) -> Result<Self, StoreError>;
}

/// Declares a record type, its table, its key and its columns (all text at rest).
macro_rules! records {
    ($(
        $(#[$doc:meta])*
        $name:ident in $table:ident, key $key:tt { $($field:ident: $ty:ty,)+ }
    )+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub struct $name { $(pub $field: $ty,)+ }

        impl Record for $name {
            const TABLE: Table = Table::$table;

            fn key(&self) -> Option<String> {
                records!(@key self $key)
            }

            fn values(&self) -> Vec<String> {
                vec![$(Value::text(&self.$field),)+]
            }

            fn from_values(values: Vec<String>) -> Result<Self, StoreError> {
                let mut values = values.into_iter();
                Ok(Self {$(
                    $field: Value::parse(values.next().as_deref(), Table::$table, stringify!($field))?,
                )+})
            }
        }
    )+};
    (@key $self:ident none) => { None };
    (@key $self:ident $field:ident) => { Some($self.$field.to_string()) };
    (@key $self:ident ($a:ident, $b:ident)) => { Some(format!("{}\u{0}{}", $self.$a, $self.$b)) };
}

records! {
    /// A dataminer.services account: its password only as a SHA-256 digest (hex), and its
    /// role in its organisation (`Owner`, `Admin`, `Member`).
    AccountRecord in Accounts, key email {
        email: String,
        organization: String,
        password_sha256: String,
        role: String,
    }
    /// A DMS registered with its key at its first grant: `public_key` is its canonical JWK,
    /// what its assertions are checked with.
    DmsRegistration in DmsRegistrations, key dms_id {
        dms_id: String,
        name: String,
        organization: String,
        key_thumbprint: String,
        registered_at: u64,
        public_key: String,
    }
    /// A token family: every token and refresh key of one connect flow.
    TokenFamilyRecord in TokenFamilies, key family {
        family: String,
        dms_id: String,
        organization: String,
        revoked: bool,
    }
    /// A share of a dashboard: who shared it, of which DMS, until when, and when it ended
    /// (deleted, or found past its expiry); `ended_at` is empty while it lasts. Kept under
    /// `share_key`, which names the pair (DMS, share ID): share IDs are each DMS's own.
    ShareRecord in Shares, key share_key {
        share_key: String,
        share_id: String,
        owner: String,
        dms_id: String,
        dashboard: String,
        created_at: u64,
        expires_at: Option<u64>,
        ended_at: Option<u64>,
    }
    /// One recipient of a share, by email address.
    ShareRecipientRecord in ShareRecipients, key (share_key, email) {
        share_key: String,
        share_id: String,
        email: String,
        added_at: u64,
    }
    /// A recipient opened a share: `email` is the account that opened it.
    ShareOpeningRecord in ShareOpenings, key none {
        share_key: String,
        share_id: String,
        email: String,
        opened_at: u64,
    }
    /// A message in the cloud's mail outbox.
    MailRecord in MailOutbox, key message_id {
        message_id: String,
        sender: String,
        recipient: String,
        subject: String,
        body: String,
        queued_at: u64,
    }
    /// One line of the cloud's operational log, with the second it was written.
    AuditRecord in AuditLog, key none {
        at: u64,
        line: String,
    }
    /// A refresh key of a family, by its SHA-256 digest (hex): the key itself is shown once.
    RefreshKeyRecord in RefreshKeys, key key_sha256 {
        key_sha256: String,
        family: String,
        spent: bool,
    }
    /// The link a share's recipient was mailed, by the SHA-256 digest (hex) of its token.
    ShareLinkRecord in ShareLinks, key token_sha256 {
        token_sha256: String,
        share_key: String,
        email: String,
    }
    /// Who may reach a DMS remotely: the accounts (comma-separated addresses, none: off) its
    /// organisation enabled on it.
    RemoteAccessRecord in RemoteAccessGrants, key dms_id {
        dms_id: String,
        organization: String,
        accounts: String,
    }
    /// A relayed DMS answer: kept only by a build with `cloud.store-dashboard-data`.
    AnswerSnapshot in AnswerSnapshots, key (dms_id, method) {
        dms_id: String,
        method: String,
        request: String,
        answer: String,
        at: u64,
    }
}

/// How a field is written as text, and read back.
trait Value: Sized {
    fn text(&self) -> String;
    fn read(text: &str) -> Option<Self>;

    fn parse(text: Option<&str>, table: Table, column: &'static str) -> Result<Self, StoreError> {
        text.and_then(Self::read).ok_or(StoreError::Malformed {
            table: table.name(),
            column,
        })
    }
}

impl Value for String {
    fn text(&self) -> String {
        self.clone()
    }
    fn read(text: &str) -> Option<Self> {
        Some(text.to_owned())
    }
}

impl Value for u64 {
    fn text(&self) -> String {
        self.to_string()
    }
    fn read(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl Value for bool {
    fn text(&self) -> String {
        self.to_string()
    }
    fn read(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl Value for Option<u64> {
    fn text(&self) -> String {
        self.map(|v| v.to_string()).unwrap_or_default()
    }
    fn read(text: &str) -> Option<Self> {
        if text.is_empty() {
            Some(None)
        } else {
            text.parse().ok().map(Some)
        }
    }
}
