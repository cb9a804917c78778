//! What the cloud serves from when it comes back, after a restart or a restore: the records of
//! its store, not what its processes held before. Accounts with their roles, remote-access
//! grants, DMS registrations with their keys, token families with their refresh keys (as
//! digests), shares with their recipients, openings and links (as digests) are read back and
//! replace the in-memory tables; a viewer
//! session lasts if its share does. What the store does not hold (sign-ups under way, device
//! grants, the outbox already sent) is left as it was.

use std::collections::HashMap;

use super::CloudState;
use super::accounts::from_hex;
use super::clients::{PublicKey, Registration};
use super::restart::Persistence;
use super::shares::{self, Opening};
use super::store::{
    AccountRecord, DmsRegistration, RefreshKeyRecord, RemoteAccessRecord, ShareLinkRecord,
    ShareOpeningRecord, ShareRecipientRecord, ShareRecord, StoreError, TokenFamilyRecord,
};
use super::tokens::{Book, Family, RefreshKey};

/// Replaces the cloud's in-memory tables with what its store holds, as `persistence` says.
pub(crate) fn from_store(state: &CloudState, persistence: Persistence) -> Result<(), StoreError> {
    state
        .accounts
        .replace_all(&state.store.all::<AccountRecord>()?);
    state
        .remote_access
        .replace_all(&state.store.all::<RemoteAccessRecord>()?);
    if persistence.connect_rebuilt {
        state.clients.replace_all(registrations(state)?);
        state
            .tokens
            .replace_book(book(state, persistence.revocations_rebuilt)?);
    }
    if persistence.shares_rebuilt {
        state.shares.replace_all(shares(state)?);
    }
    state.log.info("rebuilt from the store");
    Ok(())
}

fn registrations(state: &CloudState) -> Result<HashMap<String, Registration>, StoreError> {
    let mut registered = HashMap::new();
    for record in state.store.all::<DmsRegistration>()? {
        match PublicKey::from_jwk(&record.public_key) {
            Ok(key) => {
                registered.insert(
                    record.dms_id,
                    Registration {
                        name: record.name,
                        organization: record.organization,
                        key,
                    },
                );
            }
            Err(e) => state.log.info(format!(
                "registration of DMS {} not rebuilt: its stored key: {e}",
                record.dms_id
            )),
        }
    }
    Ok(registered)
}

fn book(state: &CloudState, revocations: bool) -> Result<Book, StoreError> {
    let mut book = Book::default();
    for record in state.store.all::<TokenFamilyRecord>()? {
        book.families.insert(
            record.family,
            Family {
                dms_id: record.dms_id,
                organization: record.organization,
                revoked: revocations && record.revoked,
            },
        );
    }
    for record in state.store.all::<RefreshKeyRecord>()? {
        if let Some(digest) = from_hex(&record.key_sha256) {
            book.refresh.insert(
                digest,
                RefreshKey {
                    family: record.family,
                    spent: record.spent,
                },
            );
        }
    }
    Ok(book)
}

type Rebuilt = (shares::ShareRecord, HashMap<[u8; 32], String>, bool);

fn shares(state: &CloudState) -> Result<Vec<Rebuilt>, StoreError> {
    let policy = state.shares.policy();
    let recipients = state.store.all::<ShareRecipientRecord>()?;
    let openings = state.store.all::<ShareOpeningRecord>()?;
    let links = state.store.all::<ShareLinkRecord>()?;
    let mut rebuilt = Vec::new();
    for share in state.store.all::<ShareRecord>()? {
        let key = &share.share_key;
        // The end kept is the earlier of deletion and expiry: one at the expiry is the expiry.
        let deleted_at = share.ended_at.filter(|end| share.expires_at != Some(*end));
        let record = shares::ShareRecord {
            share_id: share.share_id.clone(),
            dms_id: share.dms_id.clone(),
            dashboard: share.dashboard.clone(),
            shared_by: share.owner.clone(),
            recipients: recipients
                .iter()
                .filter(|r| r.share_key == *key)
                .map(|r| r.email.clone())
                .collect(),
            message: None,
            created_at: share.created_at,
            expires_at: share.expires_at.filter(|_| policy.enforces_expiry),
            deleted_at,
            openings: openings
                .iter()
                .filter(|o| o.share_key == *key)
                .map(|o| Opening {
                    email: o.email.clone(),
                    account: o.email.clone(),
                    at_unix: o.opened_at,
                })
                .collect(),
            open_sessions: 0,
        };
        let links = links
            .iter()
            .filter(|l| l.share_key == *key)
            .filter_map(|l| Some((from_hex(&l.token_sha256)?, l.email.clone())))
            .collect();
        rebuilt.push((record, links, share.ended_at.is_some()));
    }
    Ok(rebuilt)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::cloud::accounts::Accounts;
    use crate::cloud::roles::RoleSource;
    use crate::cloud::share_keeping;
    use crate::cloud::shares::Announced;
    use crate::world::{Clock, FaultSet, Lifetime};

    fn cloud(faults: FaultSet) -> std::sync::Arc<CloudState> {
        CloudState::new(
            Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_800_000_000)),
            faults,
            Accounts::new(Vec::new(), RoleSource::Current),
            ("https://c/".into(), "https://s/".into()),
            Lifetime::new(),
            crate::cloud::Waits::default(),
            None,
        )
        .expect("an in-memory store opens")
    }

    /// What the cloud served before its memory was lost: a live family's refresh key, a
    /// revoked family, a share's link.
    fn served(state: &CloudState) -> (String, String, String) {
        let live = state.tokens.issue("dms-1", "org").expect("issued");
        let dead = state.tokens.issue("dms-1", "org").expect("issued");
        let (family, _) = state.tokens.family_of(&dead.access_token).expect("family");
        assert!(state.tokens.revoke(&family));
        let share = Announced {
            dms_id: "dms-1".into(),
            share_id: "share-1".into(),
            dashboard: "core-network".into(),
            shared_by: "admin".into(),
            emails: vec!["r@x.example".into()],
            message: None,
            expires_at: None,
        };
        let links = state.shares.create(share.clone(), 1).expect("created");
        share_keeping::keep_share(state, &share, 1);
        share_keeping::keep_links(state, &share, &links);
        (live.refresh_key, dead.refresh_key, links[0].1.clone())
    }

    fn forget_memory(state: &CloudState) {
        state.tokens.replace_book(Book::default());
        state.shares.replace_all(Vec::new());
    }

    #[test]
    fn a_cloud_rebuilt_from_its_store_serves_what_it_stored() {
        let state = cloud(FaultSet::none());
        let (live, dead, link) = served(&state);
        forget_memory(&state);
        assert!(state.shares.lookup(&link).is_none());
        from_store(&state, Persistence::from_faults(&FaultSet::none())).expect("rebuilt");
        assert_eq!(
            state.shares.lookup(&link).expect("link").email,
            "r@x.example"
        );
        assert!(state.tokens.refresh(&live).is_ok());
        assert!(state.tokens.refresh(&dead).is_err());
    }

    #[test]
    fn a_rebuild_that_forgets_revocations_brings_a_revoked_family_back() {
        let faults = FaultSet::from(crate::world::Fault::CloudRestoreForgetsRevocations);
        let state = cloud(faults.clone());
        let (_, dead, _) = served(&state);
        forget_memory(&state);
        from_store(&state, Persistence::from_faults(&faults)).expect("rebuilt");
        assert!(state.tokens.refresh(&dead).is_ok());
    }
}
