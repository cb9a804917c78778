//! Remote access: an organisation's members reaching their DMS's API through its tunnel with
//! their own DMS credentials. Off until an Owner or Admin of the DMS's organisation enables it
//! for that DMS and for named accounts of the organisation; how the table is read is its
//! `RemoteAccessPolicy`, settled once.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use super::accounts::SignedIn;
use super::store::RemoteAccessRecord;
use crate::world::{Fault, FaultSet};

/// How the enablements are looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RemoteAccessPolicy {
    /// Per DMS and per named account.
    PerDmsAndAccount,
    /// Per organisation (`cloud.remote-access-per-organization`): any enablement opens every
    /// DMS of the organisation to every account of it.
    PerOrganization,
    /// Not looked up (`cloud.remote-access-always-on`): every account of the DMS's
    /// organisation reaches it.
    AlwaysOn,
}

impl RemoteAccessPolicy {
    pub fn from_faults(faults: &FaultSet) -> Self {
        if faults.is_on(Fault::CloudRemoteAccessAlwaysOn) {
            RemoteAccessPolicy::AlwaysOn
        } else if faults.is_on(Fault::CloudRemoteAccessPerOrganization) {
            RemoteAccessPolicy::PerOrganization
        } else {
            RemoteAccessPolicy::PerDmsAndAccount
        }
    }
}

#[derive(Debug, Clone)]
struct Enabled {
    organization: String,
    accounts: BTreeSet<String>,
}

/// Which accounts may reach which DMS remotely.
#[derive(Debug)]
pub(crate) struct RemoteAccess {
    policy: RemoteAccessPolicy,
    /// DMS ID → its organisation and the accounts enabled on it.
    enabled: Mutex<HashMap<String, Enabled>>,
}

impl RemoteAccess {
    pub fn new(policy: RemoteAccessPolicy) -> Self {
        Self {
            policy,
            enabled: Mutex::new(HashMap::new()),
        }
    }

    /// Enables remote access on `dms_id` (of `organization`) for exactly `accounts`; an empty
    /// list switches it off.
    pub fn set(&self, organization: &str, dms_id: &str, accounts: BTreeSet<String>) {
        let mut enabled = self.lock();
        if accounts.is_empty() {
            enabled.remove(dms_id);
        } else {
            enabled.insert(
                dms_id.to_owned(),
                Enabled {
                    organization: organization.to_owned(),
                    accounts,
                },
            );
        }
    }

    /// What the store keeps of the accounts enabled on `dms_id`.
    pub fn record(&self, organization: &str, dms_id: &str) -> RemoteAccessRecord {
        RemoteAccessRecord {
            dms_id: dms_id.to_owned(),
            organization: organization.to_owned(),
            accounts: self.accounts(dms_id).join(","),
        }
    }

    /// Replaces every grant with what the store holds.
    pub fn replace_all(&self, records: &[RemoteAccessRecord]) {
        let mut enabled = self.lock();
        enabled.clear();
        for record in records {
            let accounts: BTreeSet<String> = record
                .accounts
                .split(',')
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect();
            if !accounts.is_empty() {
                enabled.insert(
                    record.dms_id.clone(),
                    Enabled {
                        organization: record.organization.clone(),
                        accounts,
                    },
                );
            }
        }
    }

    /// The accounts enabled on `dms_id`.
    pub fn accounts(&self, dms_id: &str) -> Vec<String> {
        self.lock()
            .get(dms_id)
            .map(|e| e.accounts.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether `account` (whose organisation reaches the DMS) may call `dms_id` remotely.
    pub fn allows(&self, account: &SignedIn, dms_id: &str) -> bool {
        let enabled = self.lock();
        let email = account.email.to_ascii_lowercase();
        match self.policy {
            RemoteAccessPolicy::AlwaysOn => true,
            RemoteAccessPolicy::PerOrganization => enabled
                .values()
                .any(|e| e.organization == account.organization),
            RemoteAccessPolicy::PerDmsAndAccount => enabled.get(dms_id).is_some_and(|e| {
                e.organization == account.organization && e.accounts.contains(&email)
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Enabled>> {
        self.enabled.lock().unwrap_or_else(|p| p.into_inner())
    }
}
