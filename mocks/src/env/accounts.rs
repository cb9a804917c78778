//! Who can log in where in one environment: made fresh for each.

use crate::cloud::Account;
use crate::dma::{Role, User};
use crate::world::random_token;

/// Who can log in where. Passwords are made fresh for every environment.
#[derive(Debug, Clone)]
pub struct Accounts {
    pub dms_id: String,
    pub dms_name: String,
    pub dms_admin: User,
    pub dms_operator: User,
    /// The DMS's organisation's cloud account: the one that approves the DMS.
    pub cloud_admin: Account,
    /// An account of another organisation.
    pub cloud_outsider: Account,
}

impl Accounts {
    pub(super) fn generate() -> Self {
        let dms_id = format!("dms-{}", random_token(4));
        Self {
            dms_name: "DMS-Brussels".to_owned(),
            dms_admin: User {
                login: "admin".to_owned(),
                password: random_token(12),
                role: Role::Administrator,
            },
            dms_operator: User {
                login: "operator".to_owned(),
                password: random_token(12),
                role: Role::Operator,
            },
            cloud_admin: Account {
                email: "admin@customer.example".to_owned(),
                password: random_token(12),
                organization: "Customer Org".to_owned(),
            },
            cloud_outsider: Account {
                email: "someone@other.example".to_owned(),
                password: random_token(12),
                organization: "Other Org".to_owned(),
            },
            dms_id,
        }
    }
}
