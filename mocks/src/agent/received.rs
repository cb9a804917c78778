//! Every stream the agent was handed through its tunnels, as it arrived and before anything
//! was decided about it: the DMS side's own record of what the cloud sent it. A scenario
//! about which DMS the cloud routes a request to judges on this record of the DMS that should
//! have seen nothing, never on the cloud's account of where it sent the request.

use serde::Serialize;

use crate::dms::{REMOTE_ACCOUNT_HEADER, SHARE_HEADER};
use crate::world::Observed;

/// One stream as it reached the agent.
#[derive(Debug, Clone, Serialize)]
pub struct ReceivedStream {
    pub method: String,
    /// The path with its query, as the cloud sent it.
    pub path: String,
    /// The share the cloud named, if any.
    pub share: Option<String>,
    /// The account the cloud named for remote access, if any.
    pub remote_account: Option<String>,
}

/// The agent's record of the streams it received; shared by every tunnel of one agent.
#[derive(Debug, Clone, Default)]
pub struct ReceivedStreams(Observed<Vec<ReceivedStream>>);

impl ReceivedStreams {
    pub fn all(&self) -> Vec<ReceivedStream> {
        self.0.read(Clone::clone)
    }

    pub fn len(&self) -> usize {
        self.0.read(Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until the agent has received at least `count` streams in all; false when `bound`
    /// passed first.
    pub async fn wait_for_len(&self, count: usize, bound: std::time::Duration) -> bool {
        self.0
            .wait_for(bound, |all| (all.len() >= count).then_some(()))
            .await
            .is_some()
    }

    pub(super) fn record<B>(&self, request: &http::Request<B>) {
        let text = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let stream = ReceivedStream {
            method: request.method().to_string(),
            path: request
                .uri()
                .path_and_query()
                .map_or_else(|| request.uri().to_string(), ToString::to_string),
            share: text(SHARE_HEADER),
            remote_account: text(REMOTE_ACCOUNT_HEADER),
        };
        self.0.update(|all| all.push(stream));
    }
}
