//! What one viewer may hold of the relay at once, and how long the relay waits for a DMS's
//! answer. A recipient's browser opens as many HTTP/2 connections and streams as it likes, and
//! a DMS may never answer: without a bound, one viewer holds any number of streams in the cloud
//! (and in the DMS's tunnel) for ever, and the cloud's memory grows with them (TUN-1, DOS-1).
//!
//! Each request under a viewer's path takes a permit from that viewer's budget before anything
//! goes into the tunnel, and gives it back only when its answer's body has ended or been
//! dropped (the permit travels with the body); past the bound the viewer is answered 429 at
//! once. The wait for the answer's head has a real-time bound, as the agent's own wait for the
//! DMS side has; the body then streams on under HTTP/2 flow control, at the recipient's pace.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use http_body_util::BodyExt;

use crate::world::{Fault, FaultSet};

/// The most requests one viewer has in the relay at once (a project figure;
/// `fixtures/spec.json`, `sharing.relay_requests_per_viewer`, states it and why for the
/// scenarios): the dashboard app asks one call at a time, and a page load adds a few of its own
/// files; four times that leaves room for a slow DMS and a reload.
const REQUESTS_PER_VIEWER: usize = 16;

/// How long the relay waits for a DMS's answer head: a network bound in real time, as the
/// agent's (`agent::NETWORK_TIMEOUT`).
pub(crate) const ANSWER_WITHIN: Duration = Duration::from_secs(30);

/// What a 429 asks the page to wait, in seconds: about one of the app's heartbeats.
pub(crate) const RETRY_AFTER_SECONDS: u64 = 5;

/// The budget of a viewer session of the sharing relay.
pub(crate) fn viewer_key(viewer_id: &str) -> String {
    format!("viewer {viewer_id}")
}

/// The requests each viewer has in the relay, by budget.
#[derive(Debug)]
pub(crate) struct RelayBudget {
    /// `None` (`cloud.relay-streams-unbounded`): every request is carried at once.
    per_viewer: Option<usize>,
    /// `None` (`cloud.relay-answer-unbounded`): the relay waits for a DMS's answer for ever.
    answer_within: Option<Duration>,
    held: Arc<Mutex<HashMap<String, usize>>>,
}

/// One request's place in its viewer's budget, given back when dropped.
#[derive(Debug)]
pub(crate) struct Permit {
    viewer: String,
    held: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut held = lock(&self.held);
        if let Some(count) = held.get_mut(&self.viewer) {
            *count = count.saturating_sub(1);
            // The table holds only viewers with a request in flight: it is as small as they are.
            if *count == 0 {
                held.remove(&self.viewer);
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl RelayBudget {
    /// The budget the faults leave, waiting `answer_within` for a DMS's answer head.
    pub fn from_faults(faults: &FaultSet, answer_within: Duration) -> Self {
        Self::new(
            (!faults.is_on(Fault::CloudRelayStreamsUnbounded)).then_some(REQUESTS_PER_VIEWER),
            (!faults.is_on(Fault::CloudRelayAnswerUnbounded)).then_some(answer_within),
        )
    }

    pub fn new(per_viewer: Option<usize>, answer_within: Option<Duration>) -> Self {
        Self {
            per_viewer,
            answer_within,
            held: Arc::default(),
        }
    }

    /// A permit for one more request of `viewer`, or `None` when it holds its bound already.
    pub fn take(&self, viewer: &str) -> Option<Permit> {
        let mut held = lock(&self.held);
        let count = held.entry(viewer.to_owned()).or_insert(0);
        if self.per_viewer.is_some_and(|bound| *count >= bound) {
            return None;
        }
        *count += 1;
        Some(Permit {
            viewer: viewer.to_owned(),
            held: self.held.clone(),
        })
    }

    /// The requests `viewer` has in the relay now.
    #[cfg(test)]
    pub fn held(&self, viewer: &str) -> usize {
        lock(&self.held).get(viewer).copied().unwrap_or(0)
    }

    /// `answer` (the DMS's answer head), or `None` once the bound has passed without it.
    pub async fn answer_head<T>(&self, answer: impl Future<Output = T>) -> Option<T> {
        match self.answer_within {
            Some(bound) => tokio::time::timeout(bound, answer).await.ok(),
            None => Some(answer.await),
        }
    }
}

/// `body`, holding `permit` until it has ended or been dropped.
pub(crate) fn holding(body: Body, permit: Permit) -> Body {
    Body::new(body.map_frame(move |frame| {
        let _held = &permit;
        frame
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_viewer_past_its_bound_gets_no_permit_and_others_still_do() {
        let budget = RelayBudget::new(Some(2), Some(ANSWER_WITHIN));
        let first = budget.take("a").expect("a first permit");
        let _second = budget.take("a").expect("a second permit");
        assert!(budget.take("a").is_none(), "a third request past the bound");
        assert!(budget.take("b").is_some(), "another viewer is not held up");
        drop(first);
        assert!(
            budget.take("a").is_some(),
            "a permit given back is taken again"
        );
    }

    #[tokio::test]
    async fn a_permit_travels_with_the_answers_body_until_it_is_dropped() {
        let budget = RelayBudget::new(Some(1), Some(ANSWER_WITHIN));
        let permit = budget.take("a").expect("a permit");
        let body = holding(Body::from("the answer"), permit);
        assert_eq!(budget.held("a"), 1);
        assert!(budget.take("a").is_none());
        let bytes = body.collect().await.expect("the body").to_bytes();
        assert_eq!(&bytes[..], b"the answer");
        assert_eq!(
            budget.held("a"),
            0,
            "read to its end, the body gave its permit back"
        );

        let permit = budget.take("a").expect("a permit again");
        drop(holding(Body::empty(), permit));
        assert_eq!(budget.held("a"), 0, "a dropped body gives its permit back");
    }

    #[test]
    fn without_a_bound_every_request_is_carried() {
        let budget = RelayBudget::new(None, Some(ANSWER_WITHIN));
        let permits: Vec<_> = (0..100).filter_map(|_| budget.take("a")).collect();
        assert_eq!(permits.len(), 100);
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_head_that_never_comes_is_given_up_at_the_bound() {
        let budget = RelayBudget::new(Some(1), Some(ANSWER_WITHIN));
        let start = tokio::time::Instant::now();
        let waited = budget.answer_head(std::future::pending::<()>()).await;
        assert_eq!(waited, None);
        assert_eq!(start.elapsed(), ANSWER_WITHIN);
        let answered = budget.answer_head(async { 7 }).await;
        assert_eq!(answered, Some(7));
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_bound_on_the_answer_head_the_relay_waits_on() {
        let budget = RelayBudget::new(Some(1), None);
        let waited = tokio::time::timeout(
            ANSWER_WITHIN * 100,
            budget.answer_head(std::future::pending::<()>()),
        )
        .await;
        assert!(waited.is_err(), "still waiting after 100 bounds");
    }
}
