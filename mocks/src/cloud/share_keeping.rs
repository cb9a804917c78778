//! The sharing path's durable copy in the store, beside the in-memory shares that serve the
//! requests: each share a DMS announced with its recipients, its end (deleted, or found
//! expired), and each opening of a link by its account. Metadata only: no link token (the
//! in-memory links are digests already) and nothing a DMS answered a viewer.

use super::CloudState;
use super::shares::{self, Announced, Link};
use super::store::{
    Record, ShareLinkRecord, ShareOpeningRecord, ShareRecipientRecord, ShareRecord,
};

/// Keeps `record`; a store that refuses it is logged, as elsewhere, and does not fail the
/// request that made it: the in-memory copy still serves.
fn put<R: Record>(state: &CloudState, record: &R, what: impl FnOnce() -> String) {
    if let Err(e) = state.store.put(record) {
        state.log.info(format!("{} not stored: {e}", what()));
    }
}

/// A share the cloud took, and one record per address it is sent to.
pub(crate) fn keep_share(state: &CloudState, share: &Announced, now: u64) {
    let share_key = state
        .shares
        .policy()
        .row_key(&share.dms_id, &share.share_id);
    let record = ShareRecord {
        share_key: share_key.clone(),
        share_id: share.share_id.clone(),
        owner: share.shared_by.clone(),
        dms_id: share.dms_id.clone(),
        dashboard: share.dashboard.clone(),
        created_at: now,
        expires_at: share.expires_at,
        ended_at: None,
    };
    put(state, &record, || format!("share {}", share.share_id));
    for email in &share.emails {
        let recipient = ShareRecipientRecord {
            share_key: share_key.clone(),
            share_id: share.share_id.clone(),
            email: email.clone(),
            added_at: now,
        };
        put(state, &recipient, || {
            format!("recipient {email} of share {}", share.share_id)
        });
    }
}

/// The link mailed to each address, as the digest of its token: a cloud rebuilt from the
/// store opens it, and the store never holds a working link.
pub(crate) fn keep_links(state: &CloudState, share: &Announced, links: &[(String, String)]) {
    let share_key = state
        .shares
        .policy()
        .row_key(&share.dms_id, &share.share_id);
    for (email, token) in links {
        let record = ShareLinkRecord {
            token_sha256: super::tokens::hex(&shares::digest(token)),
            share_key: share_key.clone(),
            email: email.clone(),
        };
        put(state, &record, || {
            format!("link of {email} to share {}", share.share_id)
        });
    }
}

/// The share's record again, with the second it ended: the store keeps one per share.
pub(crate) fn keep_end(state: &CloudState, share: &shares::ShareRecord, now: u64) {
    let record = ShareRecord {
        share_key: state
            .shares
            .policy()
            .row_key(&share.dms_id, &share.share_id),
        share_id: share.share_id.clone(),
        owner: share.shared_by.clone(),
        dms_id: share.dms_id.clone(),
        dashboard: share.dashboard.clone(),
        created_at: share.created_at,
        expires_at: share.expires_at,
        ended_at: share.ended_at(now),
    };
    put(state, &record, || {
        format!("end of share {}", share.share_id)
    });
}

/// Ends what expired by `now` and keeps each newly ended share's end: an expiry has no
/// request of its own, so every look at the shares' state (a link, a heartbeat, the cloud's
/// scheduled jobs) is where it is found.
pub(crate) fn keep_ends(state: &CloudState, now: u64) {
    for share in state.shares.sweep(now) {
        keep_end(state, &share, now);
    }
}

/// `account` opened the link of `link`'s share.
pub(crate) fn keep_opening(state: &CloudState, link: &Link, account: &str, now: u64) {
    let record = ShareOpeningRecord {
        share_key: state
            .shares
            .policy()
            .row_key(&link.share.dms_id, &link.share.share_id),
        share_id: link.share.share_id.clone(),
        email: account.to_owned(),
        opened_at: now,
    };
    put(state, &record, || {
        format!("opening of share {} by {account}", link.share.share_id)
    });
}
