//! The viewers: each a signed-in dataminer.services account with its own HTTPS client, logged
//! in to one share's DMS through remote access (as a read-only DMS user: share users are
//! signed in only by the Cloud Gateway) through
//! `https://sharing.dataminer.services/dms/{id}/API/v1/Json.asmx/…`, calling the dashboard's
//! calls one after the other until the soak ends. Viewers of one share start at different
//! calls, so two answers swapped between them would name the wrong thing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mocks::Environment;
use scenarios::steps::{self, Recipient};
use serde_json::Value;
use tokio::task::JoinSet;

use super::ledger::Ledger;
use super::oracle::{self, Call};
use super::shares::ShareDms;

/// How long an answer may take before its request counts as lost.
pub const ANSWER_BOUND: Duration = Duration::from_secs(10);
/// Sign-ins under way at once.
const AT_ONCE: usize = 16;

/// One viewer, signed in and logged in to its share's DMS.
#[derive(Debug)]
pub struct Viewer {
    index: usize,
    share: usize,
    /// Which of its share's viewers this is: where in the dashboard's calls it starts.
    rank: usize,
    dms_id: String,
    recipient: Recipient,
    connection: String,
    calls: Arc<Vec<Call>>,
}

/// `count` viewers, spread evenly over `shares` (viewer `i` on share `i % shares.len()`).
pub async fn sign_in_all(
    env: &Environment,
    shares: &[ShareDms],
    count: usize,
) -> anyhow::Result<Vec<Viewer>> {
    let mut per_share = Vec::with_capacity(shares.len());
    for share in shares {
        let calls = oracle::calls(&share.dashboard, &share.data);
        anyhow::ensure!(
            !calls.is_empty(),
            "dashboard {} has no call whose answer names its DMS",
            share.dashboard.id
        );
        anyhow::ensure!(share.share_user.is_some(), "{} is not shared", share.dms_id);
        // Remote access on each DMS, enabled by the Owner for the Owner's own account.
        let owner = &env.accounts().cloud_admin;
        let enabled = steps::set_remote_access(env, owner, &share.dms_id, &[owner])
            .await
            .map_err(|e| anyhow::anyhow!("enabling remote access on {}: {e}", share.dms_id))?;
        anyhow::ensure!(
            enabled.status == 200,
            "enabling remote access on {}: HTTP {}",
            share.dms_id,
            enabled.status
        );
        let (login, password) = share.remote_user.clone();
        per_share.push((share.dms_id.clone(), login, password, Arc::new(calls)));
    }
    let shares_count = per_share.len();
    let mut viewers = Vec::with_capacity(count);
    let indices: Vec<usize> = (0..count).collect();
    for batch in indices.chunks(AT_ONCE) {
        let mut signing_in = JoinSet::new();
        for &index in batch {
            let share = index % shares_count;
            let (dms_id, login, password, calls) = per_share[share].clone();
            let recipient = Recipient::signed_in_only(env)
                .await
                .map_err(|e| anyhow::anyhow!("viewer {index} signing in: {e}"))?;
            signing_in.spawn(async move {
                let connection = recipient
                    .connect_app(&dms_id, &login, &password)
                    .await
                    .map_err(|e| anyhow::anyhow!("viewer {index} on {dms_id}: {e}"))?;
                anyhow::Ok(Viewer {
                    index,
                    share,
                    rank: index / shares_count,
                    dms_id,
                    recipient,
                    connection,
                    calls,
                })
            });
        }
        while let Some(viewer) = signing_in.join_next().await {
            viewers.push(viewer??);
        }
    }
    viewers.sort_by_key(|v| v.index);
    Ok(viewers)
}

impl Viewer {
    /// Calls until `until`, one request at a time; every request goes into `ledger` before it
    /// is sent and its fate after.
    pub async fn view(self, ledger: Arc<Ledger>, until: Instant) {
        let mut next = self.rank;
        while Instant::now() < until {
            let call = &self.calls[next % self.calls.len()];
            next += 1;
            let mut body = call.parameters.clone();
            body.insert(
                "connection".to_owned(),
                Value::String(self.connection.clone()),
            );
            let body = Value::Object(body);
            let mut answer = Vec::new();
            ledger.sent(self.share);
            let began = Instant::now();
            let received = tokio::time::timeout(
                ANSWER_BOUND,
                self.recipient
                    .call(&self.dms_id, &call.method, &body, |chunk| {
                        answer.extend_from_slice(chunk);
                    }),
            )
            .await;
            match received {
                Err(_) => ledger.lost(
                    self.share,
                    format!(
                        "{} on {}: no answer within {ANSWER_BOUND:?}",
                        call.method, self.dms_id
                    ),
                ),
                Ok(Err(broken)) => ledger.lost(
                    self.share,
                    format!("{} on {}: {broken}", call.method, self.dms_id),
                ),
                Ok(Ok(received)) => ledger.answered(
                    self.share,
                    began.elapsed(),
                    oracle::judge(&self.dms_id, call, received.status, &answer),
                    || format!("{} on {}", call.method, self.dms_id),
                ),
            }
        }
    }
}
