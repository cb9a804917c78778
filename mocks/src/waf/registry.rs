//! Which connection belongs to which share.
//!
//! The DMA registers each share with the WAF when it is created: its ID, its share user's login
//! and its whitelist. The WAF learns a share's connections by watching the gateway channel: when
//! a `ConnectApp` for a share login (compared as the DMA compares logins) is answered with a
//! connection string, that string belongs to the share, and every later call carrying it in its
//! `connection` parameter is a shared-dashboard call, checked against that share's whitelist.
//! Deleting a share retires its connections: the WAF refuses them from then on.
//!
//! A DMS user's own sign-in through the gateway (remote access: the tunnel carries DMS users
//! too, and the DMA's own authorisation applies to them) binds its connection to that user in
//! the same way. A connection bound to neither (made up, opened on the public API, of a deleted
//! share) is tied to nothing the WAF knows, and refused.
//!
//! It also keeps, per login, when its recent sign-ins through the gateway failed, so the WAF
//! can stop a run of guesses before the DMA sees them.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use super::whitelist::Whitelist;
use crate::dms::canonical::login_key;

#[derive(Debug, Clone)]
struct Share {
    login_key: String,
    whitelist: Whitelist,
}

#[derive(Debug, Default)]
struct Tables {
    shares: HashMap<String, Share>,
    /// Connection string → share ID.
    connections: HashMap<String, String>,
    /// Connections of deleted shares.
    retired: HashSet<String>,
    /// Connection string → the DMS user (login key) who opened it through the gateway, and
    /// the remote-access account it was opened for, if any.
    users: HashMap<String, (String, Option<String>)>,
    /// Login key → when its sign-ins through the gateway failed, oldest first.
    failed_sign_ins: HashMap<String, Vec<u64>>,
}

/// What the WAF knows of shares and their connections.
#[derive(Debug, Default)]
pub(crate) struct Registry(Mutex<Tables>);

/// What a connection is to the WAF.
#[derive(Debug, Clone)]
pub(crate) enum Owner {
    /// No share: no whitelist applies.
    Nobody,
    Share(String, Whitelist),
    /// A DMS user's session, opened through the gateway (for a remote-access account when
    /// named): the DMA's own authorisation applies.
    User(String, Option<String>),
    /// A connection of a share that was deleted.
    Retired,
}

impl Registry {
    pub fn register(&self, share_id: &str, login: &str, whitelist: Whitelist) {
        self.lock().shares.insert(
            share_id.to_owned(),
            Share {
                login_key: login_key(login),
                whitelist,
            },
        );
    }

    pub fn retire(&self, share_id: &str) {
        let mut tables = self.lock();
        tables.shares.remove(share_id);
        let gone: Vec<String> = tables
            .connections
            .iter()
            .filter(|(_, s)| s.as_str() == share_id)
            .map(|(c, _)| c.clone())
            .collect();
        for connection in gone {
            tables.connections.remove(&connection);
            tables.retired.insert(connection);
        }
    }

    /// The share whose user logs in as `login`.
    pub fn share_of_login(&self, login: &str) -> Option<String> {
        let key = login_key(login);
        self.lock()
            .shares
            .iter()
            .find(|(_, s)| s.login_key == key)
            .map(|(id, _)| id.clone())
    }

    pub fn bind(&self, connection: &str, share_id: &str) {
        self.lock()
            .connections
            .insert(connection.to_owned(), share_id.to_owned());
    }

    /// Forgets a share's connection the DMA ended: from then on it is tied to nothing.
    pub fn forget(&self, connection: &str) {
        self.lock().connections.remove(connection);
    }

    /// Binds `connection` to the DMS user `login` signed in as through the gateway, for the
    /// remote-access account `account` when the sign-in was one.
    pub fn bind_user(&self, connection: &str, login: &str, account: Option<&str>) {
        self.lock().users.insert(
            connection.to_owned(),
            (login_key(login), account.map(str::to_ascii_lowercase)),
        );
    }

    pub fn owner(&self, connection: &str) -> Owner {
        let tables = self.lock();
        if tables.retired.contains(connection) {
            return Owner::Retired;
        }
        if let Some((login, account)) = tables.users.get(connection) {
            return Owner::User(login.clone(), account.clone());
        }
        match tables.connections.get(connection) {
            Some(share_id) => tables
                .shares
                .get(share_id)
                .map(|s| Owner::Share(share_id.clone(), s.whitelist.clone()))
                .unwrap_or(Owner::Retired),
            None => Owner::Nobody,
        }
    }

    /// Notes a failed sign-in as `login` at `now`.
    pub fn sign_in_failed(&self, login: &str, now: u64) {
        self.lock()
            .failed_sign_ins
            .entry(login_key(login))
            .or_default()
            .push(now);
    }

    /// How many sign-ins as `login` failed in the `window` seconds up to `now`.
    pub fn failed_sign_ins(&self, login: &str, now: u64, window: u64) -> usize {
        let mut tables = self.lock();
        let failures = tables.failed_sign_ins.entry(login_key(login)).or_default();
        failures.retain(|&at| at + window > now);
        failures.len()
    }

    pub fn whitelist(&self, share_id: &str) -> Option<Whitelist> {
        self.lock()
            .shares
            .get(share_id)
            .map(|s| s.whitelist.clone())
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
