//! Shares on the DMA side: one dataminer.services user per shared dashboard (USER-1), its
//! password generated and sealed (USER-2, USER-3), its items (USER-5), and the sessions it opens
//! through the Cloud Gateway (USER-4).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use fixtures::{Dashboard, DmaData};

use super::Channel;
use super::passwords::{PasswordPolicy, ShareKey};
use crate::dms::ShareFirewall;
use crate::dms::canonical::{CanonicalCall, CanonicalValue, canonical_call, login_key};
use crate::world::{Clock, Fault, FaultSet, random_token};

/// The rights a new share user is created with, settled once when the DMA starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SharePolicy {
    /// What the user may read: the dashboard's items, or (`dma.share-user-all-elements`) every
    /// element and view of the DMS, as if it had the sharing user's reach.
    pub reach: Reach,
    /// Whether the user may write (`dma.share-user-can-write`: a read-write role instead of a
    /// read-only one).
    pub may_write: bool,
    /// Whether the account is flagged as usable only through the Cloud Gateway
    /// (`dma.share-user-direct-login` leaves the flag off).
    pub gateway_only: bool,
    /// Whether a deleted or expired share's user leaves the user table
    /// (`dma.share-user-survives-delete` keeps it, and its sessions).
    pub removes_user_at_end: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    DashboardItems,
    Everything,
}

impl SharePolicy {
    pub fn from_faults(faults: &FaultSet) -> Self {
        Self {
            reach: if faults.is_on(Fault::DmaShareUserAllElements) {
                Reach::Everything
            } else {
                Reach::DashboardItems
            },
            may_write: faults.is_on(Fault::DmaShareUserCanWrite),
            gateway_only: !faults.is_on(Fault::DmaShareUserDirectLogin),
            removes_user_at_end: !faults.is_on(Fault::DmaShareUserSurvivesDelete),
        }
    }
}

/// A share user as the user table stores it: the password only as it is at rest.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredShareUser {
    pub share_id: String,
    pub dashboard: String,
    pub login: String,
    /// Who shared the dashboard, and with whom.
    pub shared_by: String,
    pub emails: Vec<String>,
    /// The password as stored: Blowfish-ECB ciphertext (PKCS#5-padded).
    pub password_at_rest: Vec<u8>,
    /// The elements (DataMiner ID, element ID) the user may read.
    pub items: BTreeSet<(u32, u32)>,
    /// The views the user may list.
    pub views: BTreeSet<u32>,
    /// Whether the user may call `SetParameter` on its items.
    pub may_write: bool,
    /// Whether the user logs in and works only on the gateway channel.
    pub gateway_only: bool,
    /// When the share ends by itself (Unix seconds), if it does.
    pub expires_at: Option<u64>,
}

impl StoredShareUser {
    /// Whether the user is served on `channel`.
    pub(crate) fn served_on(&self, channel: Channel) -> bool {
        channel == Channel::Gateway || !self.gateway_only
    }
}

/// A new share: its user, and the whitelist of the dashboard's calls.
#[derive(Debug, Clone)]
pub(crate) struct NewShare {
    pub user: StoredShareUser,
    pub whitelist: Vec<CanonicalCall>,
}

/// The share users, their sessions, and what ends them: a share ends when it is deleted or when
/// its expiry passes (looked at on every use of the table), and then the WAF retires its
/// whitelist.
#[derive(Debug)]
pub(crate) struct Shares {
    users: Mutex<Vec<StoredShareUser>>,
    /// Shares that ended, so that each is retired once.
    ended: Mutex<BTreeSet<String>>,
    waf: Arc<dyn ShareFirewall>,
    clock: Clock,
    /// Connection string → share ID. Only a `ConnectApp` the user is served on adds to it.
    sessions: Mutex<HashMap<String, String>>,
    key: ShareKey,
    policy: SharePolicy,
    passwords: PasswordPolicy,
}

impl Shares {
    pub fn new(
        policy: SharePolicy,
        passwords: PasswordPolicy,
        waf: Arc<dyn ShareFirewall>,
        clock: Clock,
    ) -> Self {
        Self {
            users: Mutex::default(),
            ended: Mutex::default(),
            waf,
            clock,
            sessions: Mutex::default(),
            key: ShareKey::generate(),
            policy,
            passwords,
        }
    }

    pub fn key(&self) -> &ShareKey {
        &self.key
    }

    /// A password from the generator share users get theirs from.
    pub fn generate_password(&self) -> String {
        self.passwords.generate()
    }

    /// Creates the share of `dashboard`: one new user, one whitelist. The user's items are the
    /// elements the calls name, and every element of a view a call lists.
    pub fn create(
        &self,
        dashboard: &Dashboard,
        data: &DmaData,
        shared_by: &str,
        emails: Vec<String>,
        expires_at: Option<u64>,
    ) -> Result<NewShare, String> {
        let mut whitelist = Vec::new();
        let mut items = BTreeSet::new();
        let mut views = BTreeSet::new();
        for call in dashboard.calls() {
            let canonical = canonical_call(&call.method, &call.parameters)
                .map_err(|e| format!("dashboard {} makes an unreadable call: {e}", dashboard.id))?;
            let id = |name: &str| match canonical.parameters.get(name) {
                Some(CanonicalValue::Id(id)) => Some(*id),
                _ => None,
            };
            if let (Some(dma), Some(element)) = (id("dmaID"), id("elementID")) {
                items.insert((dma, element));
            }
            if let Some(view) = id("viewID") {
                views.insert(view);
                items.extend(
                    data.elements_in_view(view)
                        .iter()
                        .map(|e| (e.dma_id, e.element_id)),
                );
            }
            if !whitelist.contains(&canonical) {
                whitelist.push(canonical);
            }
        }
        if self.policy.reach == Reach::Everything {
            items = data
                .elements
                .iter()
                .map(|e| (e.dma_id, e.element_id))
                .collect();
            views = data.views.iter().map(|v| v.view_id).collect();
        }
        let share_id = format!("share-{}", random_token(6));
        let password = self.generate_password();
        let user = StoredShareUser {
            login: format!("cloud-{share_id}"),
            share_id,
            dashboard: dashboard.id.clone(),
            shared_by: shared_by.to_owned(),
            emails,
            password_at_rest: self.passwords.store(&self.key, &password),
            items,
            views,
            may_write: self.policy.may_write,
            gateway_only: self.policy.gateway_only,
            expires_at,
        };
        self.lock_users().push(user.clone());
        Ok(NewShare { user, whitelist })
    }

    /// Ends a share: the WAF retires its whitelist and (as the policy says) its user and that
    /// user's sessions go.
    pub fn end(&self, share_id: &str) {
        let first = self
            .ended
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(share_id.to_owned());
        if first {
            self.waf.retire_share(share_id);
        }
        if self.policy.removes_user_at_end {
            self.delete(share_id);
        }
    }

    /// Ends every share whose expiry has passed.
    pub fn sweep(&self) {
        let now = self.clock.unix_seconds();
        let expired: Vec<String> = self
            .lock_users()
            .iter()
            .filter(|u| u.expires_at.is_some_and(|at| now >= at))
            .map(|u| u.share_id.clone())
            .collect();
        for share_id in expired {
            self.end(&share_id);
        }
    }

    /// Removes the share's user and ends its sessions.
    pub fn delete(&self, share_id: &str) -> Option<StoredShareUser> {
        let mut users = self.lock_users();
        let at = users.iter().position(|u| u.share_id == share_id)?;
        let removed = users.remove(at);
        self.lock_sessions().retain(|_, s| s != share_id);
        Some(removed)
    }

    /// A connection for the right share login and password, on a channel the user is served
    /// on; the user it is for.
    pub fn connect(
        &self,
        login: &str,
        password: &str,
        channel: Channel,
    ) -> Option<(String, StoredShareUser)> {
        self.sweep();
        let key = login_key(login);
        let user = {
            let users = self.lock_users();
            let user = users.iter().find(|u| login_key(&u.login) == key)?;
            let stored = self.passwords.recover(&self.key, &user.password_at_rest)?;
            (stored == password && user.served_on(channel)).then(|| user.clone())?
        };
        let connection = random_token(16);
        self.lock_sessions()
            .insert(connection.clone(), user.share_id.clone());
        Some((connection, user))
    }

    /// Whether `login` names a share user.
    pub fn is_share_login(&self, login: &str) -> bool {
        let key = login_key(login);
        self.lock_users().iter().any(|u| login_key(&u.login) == key)
    }

    pub fn user_of(&self, connection: &str) -> Option<StoredShareUser> {
        self.sweep();
        let share_id = self.lock_sessions().get(connection)?.clone();
        self.lock_users()
            .iter()
            .find(|u| u.share_id == share_id)
            .cloned()
    }

    /// How many sessions of `share_id`'s user are open in the session table.
    pub fn open_sessions(&self, share_id: &str) -> usize {
        self.lock_sessions()
            .values()
            .filter(|s| s.as_str() == share_id)
            .count()
    }

    pub fn log_out(&self, connection: &str) -> bool {
        self.lock_sessions().remove(connection).is_some()
    }

    pub fn all(&self) -> Vec<StoredShareUser> {
        self.sweep();
        self.lock_users().clone()
    }

    /// The login and password the Cloud Gateway is handed for `share_id`.
    pub fn credentials(&self, share_id: &str) -> Option<(String, String)> {
        let users = self.lock_users();
        let user = users.iter().find(|u| u.share_id == share_id)?;
        Some((
            user.login.clone(),
            self.passwords.recover(&self.key, &user.password_at_rest)?,
        ))
    }

    fn lock_users(&self) -> MutexGuard<'_, Vec<StoredShareUser>> {
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_sessions(&self) -> MutexGuard<'_, HashMap<String, String>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
}
