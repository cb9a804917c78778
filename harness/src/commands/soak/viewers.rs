//! The viewers: each a recipient, as the spec's sharing has them. Every viewer has an address of
//! its own that its share's DMS shared the dashboard with; it signs up for that address through
//! the cloud's real flow (the code read from the mail the cloud sent, in the soak's own
//! environment), opens the mailed link on `sharing.dataminer.services` with its own browser
//! client, and from then on does what the DMS's dashboard app does at every heartbeat: reads
//! the dashboard's definition and makes the dashboard's calls, one request at a time, under
//! the path the cloud's redirect named (whatever carries the viewer's session, a cookie scoped
//! to the path or the path itself, the browser client sends as a browser would). Viewers of one
//! share start at different points of the heartbeat, so two answers swapped between them would
//! name the wrong thing.
//!
//! Through remote access instead (`--through remote-access`, the same load on the other path,
//! to compare): every viewer is a client of its own carrying the Owner's one sign-in (an
//! account's tools), logged in to its share's DMS as a read-only DMS user, making the
//! dashboard's calls under `/dms/{id}/API/v1/Json.asmx/` (no definition: that is the app's).

use std::sync::Arc;
use std::time::{Duration, Instant};

use mocks::Environment;
use mocks::world::random_token;
use scenarios::clients::{Seen, ShareRecipient, Viewer as OpenViewer, link_in, path_of};
use scenarios::steps::{self, Recipient};
use serde_json::Value;

use super::ledger::Ledger;
use super::oracle::{self, Call};
use super::shares::ShareDms;
use crate::cli::Through;

/// How long an answer may take before its request counts as lost.
pub const ANSWER_BOUND: Duration = Duration::from_secs(10);
/// Sign-ups and link openings under way at once: below the cloud's bound on sign-ups pending
/// from one source address (every viewer comes from this machine).
const AT_ONCE: usize = 16;

/// The address of the `index`th viewer, on the share of DMS `dms_id`.
fn address(index: usize, dms_id: &str) -> String {
    format!("viewer-{index:04}@{dms_id}.partner.example")
}

/// The addresses each share is sent to: viewer `i` watches share `i % shares`.
pub fn addresses(viewers: usize, shares: usize) -> Vec<Vec<String>> {
    (0..shares)
        .map(|share| {
            let dms_id = oracle::dms_id(share);
            (share..viewers)
                .step_by(shares.max(1))
                .map(|index| address(index, &dms_id))
                .collect()
        })
        .collect()
}

/// One step of a heartbeat: the dashboard's definition, or one of its calls.
#[derive(Debug)]
enum Step {
    Definition,
    Call(Call),
}

/// How a viewer reaches its share's DMS.
#[derive(Debug)]
enum Way {
    /// A recipient's browser, and the dashboard app where the cloud's redirect put it.
    Recipient {
        browser: ShareRecipient,
        open: OpenViewer,
    },
    /// An organisation account's remote access, logged in to the DMS as its read-only user.
    Remote {
        client: Recipient,
        connection: String,
    },
}

/// One viewer, signed up and looking at its share's dashboard.
#[derive(Debug)]
pub struct Viewer {
    index: usize,
    share: usize,
    /// Which of its share's viewers this is: where in the heartbeat it starts.
    rank: usize,
    dms_id: String,
    way: Way,
    /// What the dashboard's definition must list: its calls, from the fixture.
    expected_calls: Arc<Vec<(String, Value)>>,
    heartbeat: Arc<Vec<Step>>,
}

/// `count` viewers, spread evenly over `shares` (viewer `i` on share `i % shares.len()`), each
/// signed up for its address and looking at the dashboard its mailed link opens.
pub async fn sign_in_all(
    env: &Environment,
    shares: &[ShareDms],
    count: usize,
    through: Through,
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
        let mut heartbeat = match through {
            Through::Recipients => vec![Step::Definition],
            Through::RemoteAccess => Vec::new(),
        };
        heartbeat.extend(calls.into_iter().map(Step::Call));
        let expected: Vec<(String, Value)> = share
            .dashboard
            .calls()
            .map(|c| (c.method.clone(), Value::Object(c.parameters.clone())))
            .collect();
        per_share.push((
            share.dms_id.clone(),
            share.remote_user.clone(),
            Arc::new(expected),
            Arc::new(heartbeat),
        ));
    }
    let account = match through {
        Through::Recipients => None,
        Through::RemoteAccess => Some(remote_access(env, shares).await?),
    };
    let shares_count = per_share.len();
    let mut viewers = Vec::with_capacity(count);
    let indices: Vec<usize> = (0..count).collect();
    for batch in indices.chunks(AT_ONCE) {
        let opening = batch.iter().map(|&index| {
            let share = index % shares_count;
            let (dms_id, (login, password), expected_calls, heartbeat) = per_share[share].clone();
            let account = account.as_ref();
            async move {
                let way = match account {
                    None => sign_up_and_open(env, &address(index, &dms_id)).await,
                    Some(account) => remote_log_in(env, account, &dms_id, &login, &password).await,
                }
                .map_err(|e| anyhow::anyhow!("viewer {index} of {dms_id}: {e}"))?;
                anyhow::Ok(Viewer {
                    index,
                    share,
                    rank: index / shares_count,
                    dms_id,
                    way,
                    expected_calls,
                    heartbeat,
                })
            }
        });
        for viewer in futures_util::future::join_all(opening).await {
            viewers.push(viewer?);
        }
    }
    viewers.sort_by_key(|v| v.index);
    Ok(viewers)
}

/// A recipient's first visit: signs up for `email` with the code the cloud mailed it, then
/// opens the share link the cloud mailed it, following the cloud's redirect to the app.
async fn sign_up_and_open(env: &Environment, email: &str) -> Result<Way, scenarios::Failure> {
    let mut browser = ShareRecipient::new(env)?;
    browser
        .sign_up(env, email, &format!("pw-{}", random_token(16)))
        .await?;
    let link = env
        .cloud()
        .outbox()
        .to(email)
        .iter()
        .filter_map(link_in)
        .find(|link| path_of(link).is_ok_and(|p| p.starts_with("/s/")))
        .ok_or_else(|| {
            scenarios::Failure::precondition(
                format!("the share mailed to {email}"),
                "a mail with a link under /s/",
                "none",
            )
        })?;
    let page = browser.open(&link).await?;
    let open = OpenViewer::of(&page).ok_or_else(|| {
        scenarios::Failure::precondition(
            "opening the mailed link",
            "HTTP 200 with the DMS's dashboard app",
            format!("HTTP {} at {}", page.status, page.path),
        )
    })?;
    Ok(Way::Recipient { browser, open })
}

/// The Owner enables remote access on every share's DMS for their own account and signs in
/// once: the sign-in every remote viewer carries.
async fn remote_access(env: &Environment, shares: &[ShareDms]) -> anyhow::Result<Recipient> {
    let owner = &env.accounts().cloud_admin;
    for share in shares {
        let enabled = steps::set_remote_access(env, owner, &share.dms_id, &[owner])
            .await
            .map_err(|e| anyhow::anyhow!("enabling remote access on {}: {e}", share.dms_id))?;
        anyhow::ensure!(
            enabled.status == 200,
            "enabling remote access on {}: HTTP {}",
            share.dms_id,
            enabled.status
        );
    }
    Recipient::signed_in_only(env)
        .await
        .map_err(|e| anyhow::anyhow!("the Owner signing in: {e}"))
}

/// A client of its own with the account's sign-in, logged in to `dms_id` as `login` through
/// remote access.
async fn remote_log_in(
    env: &Environment,
    account: &Recipient,
    dms_id: &str,
    login: &str,
    password: &str,
) -> Result<Way, scenarios::Failure> {
    let client = account.another_client(env)?;
    let connection = client.connect_app(dms_id, login, password).await?;
    Ok(Way::Remote { client, connection })
}

impl Viewer {
    /// One step, the way this viewer reaches its DMS.
    async fn send(&self, step: &Step) -> Result<Seen, scenarios::Failure> {
        match (&self.way, step) {
            (Way::Recipient { browser, open }, Step::Definition) => {
                browser.get(&format!("{}definition", open.base)).await
            }
            (Way::Recipient { browser, open }, Step::Call(call)) => {
                let parameters = Value::Object(call.parameters.clone());
                browser.call(open, &call.method, &parameters).await
            }
            (Way::Remote { .. }, Step::Definition) => Err(scenarios::Failure::Harness(
                "remote access has no dashboard definition".into(),
            )),
            (Way::Remote { client, connection }, Step::Call(call)) => {
                let mut body = call.parameters.clone();
                body.insert("connection".to_owned(), Value::String(connection.clone()));
                let mut answer = Vec::new();
                let received = client
                    .call(&self.dms_id, &call.method, &Value::Object(body), |chunk| {
                        answer.extend_from_slice(chunk)
                    })
                    .await?;
                Ok(Seen {
                    status: received.status,
                    body: String::from_utf8_lossy(&answer).into_owned(),
                    path: String::new(),
                    headers: Vec::new(),
                })
            }
        }
    }

    /// Heartbeats until `until`, one request at a time; every request goes into `ledger`
    /// before it is sent and its fate after.
    pub async fn view(self, ledger: Arc<Ledger>, until: Instant) {
        let mut next = self.rank;
        while Instant::now() < until {
            let step = &self.heartbeat[next % self.heartbeat.len()];
            next += 1;
            let what = match step {
                Step::Definition => format!("the definition on {}", self.dms_id),
                Step::Call(call) => format!("{} on {}", call.method, self.dms_id),
            };
            ledger.sent(self.share);
            let began = Instant::now();
            let sent = self.send(step);
            match tokio::time::timeout(ANSWER_BOUND, sent).await {
                Err(_) => ledger.lost(
                    self.share,
                    format!("{what}: no answer within {ANSWER_BOUND:?}"),
                ),
                Ok(Err(broken)) => ledger.lost(self.share, format!("{what}: {broken}")),
                Ok(Ok(seen)) => ledger.answered(
                    self.share,
                    began.elapsed(),
                    match step {
                        Step::Definition => oracle::judge_definition(
                            &self.expected_calls,
                            seen.status,
                            seen.body.as_bytes(),
                        ),
                        Step::Call(call) => {
                            oracle::judge(&self.dms_id, call, seen.status, seen.body.as_bytes())
                        }
                    },
                    || what.clone(),
                ),
            }
        }
    }
}
