//! `POST /api/org/dms/remove` on `connection.dataminer.services`: an Owner or Admin of an
//! organisation removes one of its DMSs, as the product's Admin app does — the cloud-started
//! end of a connection (OPT-3). Every token family of that DMS is revoked (its token and
//! refresh key refused from then on, kept so across a restart by the store), every tunnel they
//! hold is closed, and a connect flow of that DMS approved or waiting is denied, so a DMS
//! caught pairing gets no token either; remote access to it is switched off and its shares
//! end (their links answer 410 Gone). A Member is refused, a DMS of another organisation is
//! answered as unknown.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use serde_json::json;

use super::CloudState;
use super::device_flow::GrantState;
use super::oauth::Params;
use super::org_admin::{Refusal, administered_dms, set_grants};

/// `POST /api/org/dms/remove` with `dms_id`.
pub(crate) async fn remove(
    State(state): State<Arc<CloudState>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let answer = (|| -> Result<_, Refusal> {
        let (caller, dms_id) = administered_dms(&state, &headers, &params)?;
        let families: Vec<String> = state
            .tokens
            .lock()
            .families
            .iter()
            .filter(|(_, f)| f.dms_id == dms_id && !f.revoked)
            .map(|(name, _)| name.clone())
            .collect();
        let revoked: Vec<String> = families
            .into_iter()
            .filter(|f| state.tokens.revoke(f))
            .collect();
        if state.org_admin.removal_closes_tunnels {
            for family in &revoked {
                state.tunnels.close_family(family);
            }
        }
        let mut denied = 0;
        for grant in state.devices.lock().values_mut() {
            if state.org_admin.removal_denies_connect_flows
                && grant.dms_id == dms_id
                && matches!(grant.state, GrantState::Pending | GrantState::Approved(_))
            {
                grant.state = GrantState::Denied;
                grant.prepared = None;
                denied += 1;
            }
        }
        // Whom the organisation let reach the DMS goes with it: a DMS connected again starts
        // with remote access off.
        set_grants(&state, &caller.organization, dms_id, BTreeSet::new());
        // Its shares end with it: a link would otherwise open a viewer of a DMS the
        // organisation let go.
        let now = state.clock.unix_seconds();
        let live: Vec<String> = state
            .shares
            .all()
            .into_iter()
            .filter(|s| s.dms_id == dms_id && !s.ended(now))
            .map(|s| s.share_id)
            .collect();
        for share_id in live.iter().filter(|_| state.org_admin.removal_ends_shares) {
            if let Some(ended) = state.shares.delete(dms_id, share_id, now) {
                super::share_keeping::keep_end(&state, &ended, now);
            }
        }
        state.log.info(format!(
            "{} removed DMS {dms_id} from {}: {} token family(ies) revoked, {denied} connect flow(s) denied",
            caller.email,
            caller.organization,
            revoked.len()
        ));
        Ok(Json(
            json!({ "dms_id": dms_id, "removed": true, "families_revoked": revoked.len() }),
        ))
    })();
    answer.into_response()
}
