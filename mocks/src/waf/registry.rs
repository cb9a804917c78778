//! Which connection belongs to which share.
//!
//! The DMA registers each share with the WAF when it is created: its ID, its share user's login
//! and its whitelist. The WAF learns a share's connections by watching the gateway channel: when
//! a `ConnectApp` for a share login (compared as the DMA compares logins) is answered with a
//! connection string, that string belongs to the share, and every later call carrying it in its
//! `connection` parameter is a shared-dashboard call, checked against that share's whitelist.
//! Deleting a share retires its connections: the WAF refuses them from then on.
//!
//! It also keeps, per share user, when its recent sign-ins through the gateway failed, so the
//! WAF can stop a run of guesses before the DMA sees them.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use super::whitelist::Whitelist;
use crate::dma::canonical::login_key;

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
    /// Share ID → when its user's sign-ins through the gateway failed, oldest first.
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

    pub fn owner(&self, connection: &str) -> Owner {
        let tables = self.lock();
        if tables.retired.contains(connection) {
            return Owner::Retired;
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

    /// Notes a failed sign-in of `share_id`'s user at `now`.
    pub fn sign_in_failed(&self, share_id: &str, now: u64) {
        self.lock()
            .failed_sign_ins
            .entry(share_id.to_owned())
            .or_default()
            .push(now);
    }

    /// How many sign-ins of `share_id`'s user failed in the `window` seconds up to `now`.
    pub fn failed_sign_ins(&self, share_id: &str, now: u64, window: u64) -> usize {
        let mut tables = self.lock();
        let failures = tables
            .failed_sign_ins
            .entry(share_id.to_owned())
            .or_default();
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
