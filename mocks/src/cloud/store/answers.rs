//! Where the sharing front end could keep the DMS answers it relays. A careful cloud keeps
//! them nowhere (SHARE-4): an answer streams from the tunnel to the recipient and is gone.
//! The two builds that keep them do it where real front ends do: a "last known value" per
//! dashboard call in the store, to show while a DMS is slow (`cloud.store-dashboard-data`),
//! or an HTTP-style answer cache of gzip files in the cloud's scratch directory
//! (`cloud.cache-answers`).

use std::io::Write;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

use super::policy::AnswerKeeping;
use super::{AnswerSnapshot, Store};

/// The most of one call (request or answer) a keeping build holds.
const KEPT_LIMIT: usize = 64 * 1024 * 1024;

/// `router` with the front end's answer keeping, as the store's policy has it: the router
/// itself when answers are kept nowhere.
pub(crate) fn keeping_answers(router: axum::Router, store: Arc<Store>) -> axum::Router {
    if store.policy.answers == AnswerKeeping::Nowhere {
        return router;
    }
    router.layer(middleware::from_fn_with_state(store, keep))
}

async fn keep(State(store): State<Arc<Store>>, request: Request, next: Next) -> Response {
    // `/dms/{dms_id}/API/v1/Json.asmx/{method}`
    let path: Vec<String> = request.uri().path().split('/').map(str::to_owned).collect();
    let (Some(dms_id), Some(method)) = (path.get(2).cloned(), path.last().cloned()) else {
        return next.run(request).await;
    };
    if path.get(1).map(String::as_str) != Some("dms") {
        return next.run(request).await;
    }
    let (head, body) = request.into_parts();
    let Ok(asked) = http_body_util::Limited::new(body, KEPT_LIMIT)
        .collect()
        .await
    else {
        return http::StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let asked = asked.to_bytes();
    let response = next
        .run(Request::from_parts(head, Body::from(asked.clone())))
        .await;
    if !response.status().is_success() {
        return response;
    }
    let (head, body) = response.into_parts();
    let Ok(answer) = http_body_util::Limited::new(body, KEPT_LIMIT)
        .collect()
        .await
    else {
        return http::StatusCode::BAD_GATEWAY.into_response();
    };
    let answer = answer.to_bytes();
    let now = store.clock.unix_seconds();
    let kept = match store.policy.answers {
        AnswerKeeping::InStore => store
            .put(&AnswerSnapshot {
                dms_id: dms_id.clone(),
                method: method.clone(),
                request: String::from_utf8_lossy(&asked).into_owned(),
                answer: String::from_utf8_lossy(&answer).into_owned(),
                at: now,
            })
            .map_err(|e| e.to_string()),
        AnswerKeeping::InCache => cache(&store, &dms_id, &method, &asked, &answer),
        AnswerKeeping::Nowhere => Ok(()),
    };
    if let Err(e) = kept {
        tracing::warn!("answer of {method} on {dms_id} not kept: {e}");
    }
    Response::from_parts(head, Body::from(answer))
}

/// Writes the answer gzip-compressed under a name made of the call.
fn cache(
    store: &Store,
    dms_id: &str,
    method: &str,
    asked: &[u8],
    answer: &[u8],
) -> Result<(), String> {
    let Some(paths) = store.paths() else {
        return Ok(());
    };
    let mut name = Sha256::new();
    name.update(dms_id.as_bytes());
    name.update(method.as_bytes());
    name.update(asked);
    let name: String = name.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(answer).map_err(|e| e.to_string())?;
    let bytes = gz.finish().map_err(|e| e.to_string())?;
    std::fs::write(paths.cache.join(format!("{name}.gz")), bytes).map_err(|e| e.to_string())
}
