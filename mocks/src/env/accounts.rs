//! Who can log in where in one environment: made fresh for each.

use crate::cloud::{Account, OrgRole};
use crate::dma::{Role, User};
use crate::world::random_token;

/// Who can log in where. Passwords are made fresh for every environment.
#[derive(Debug, Clone)]
pub struct Accounts {
    pub dms_id: String,
    pub dms_name: String,
    pub dms_admin: User,
    pub dms_operator: User,
    /// A DMS user of the read-only group: reads everything, writes nothing.
    pub dms_viewer: User,
    /// The Owner of the DMS's organisation: the account that approves the DMS.
    pub cloud_admin: Account,
    /// An Admin of the DMS's organisation.
    pub cloud_org_admin: Account,
    /// A Member of the DMS's organisation: neither approves a DMS nor administers.
    pub cloud_member: Account,
    /// An account of another organisation.
    pub cloud_outsider: Account,
}

impl Accounts {
    /// Every cloud account, as the cloud is set up with them.
    pub fn cloud_accounts(&self) -> Vec<Account> {
        vec![
            self.cloud_admin.clone(),
            self.cloud_outsider.clone(),
            self.cloud_org_admin.clone(),
            self.cloud_member.clone(),
        ]
    }

    /// Every DMS user, as the DMA is set up with them.
    pub fn dms_users(&self) -> Vec<User> {
        vec![
            self.dms_admin.clone(),
            self.dms_operator.clone(),
            self.dms_viewer.clone(),
        ]
    }

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
            dms_viewer: User {
                login: "viewer".to_owned(),
                password: random_token(12),
                role: Role::ReadOnly,
            },
            cloud_admin: Account {
                email: "admin@customer.example".to_owned(),
                password: random_token(12),
                organization: "Customer Org".to_owned(),
                role: OrgRole::Owner,
            },
            cloud_org_admin: Account {
                email: "it@customer.example".to_owned(),
                password: random_token(12),
                organization: "Customer Org".to_owned(),
                role: OrgRole::Admin,
            },
            cloud_member: Account {
                email: "engineer@customer.example".to_owned(),
                password: random_token(12),
                organization: "Customer Org".to_owned(),
                role: OrgRole::Member,
            },
            cloud_outsider: Account {
                email: "someone@other.example".to_owned(),
                password: random_token(12),
                organization: "Other Org".to_owned(),
                role: OrgRole::Owner,
            },
            dms_id,
        }
    }
}
