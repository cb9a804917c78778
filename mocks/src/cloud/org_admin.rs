//! The organisation's administration on `connection.dataminer.services`, as the product's Admin
//! app does it: an Owner or Admin of an organisation sets its members' roles, and enables
//! remote access on a DMS of the organisation for named accounts of it. A Member is refused,
//! and a DMS or account of another organisation is answered as unknown.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::CloudState;
use super::accounts::SignedIn;
use super::oauth::Params;
use super::roles::OrgRole;
use crate::world::{Fault, FaultSet};

/// Who the admin API serves, settled once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AdminPolicy {
    /// The caller's role is checked, not only their organisation
    /// (`cloud.remote-access-members-enable` leaves it out).
    pub role_checked: bool,
    /// A browser's request must come from the connection host's own pages: every host of
    /// dataminer.services is one site, so a page the sharing host relays from some DMS would
    /// otherwise drive an administrator's session (`cloud.org-admin-accepts-cross-site` skips it).
    pub own_pages_only: bool,
    /// The organisation keeps an Owner: its only Owner cannot give the role up
    /// (`cloud.last-owner-can-leave` leaves the check out).
    pub keeps_an_owner: bool,
    /// A role change is written to the store, so a restart or a restore serves it
    /// (`cloud.roles-kept-in-memory` leaves the write out).
    pub stores_roles: bool,
    /// Remote-access grants are written to the store likewise
    /// (`cloud.remote-access-kept-in-memory` leaves the write out).
    pub stores_grants: bool,
    /// Removing a DMS closes the tunnels of the families it revokes
    /// (`cloud.revoke-keeps-tunnels` leaves them open).
    pub removal_closes_tunnels: bool,
    /// Removing a DMS denies its connect flows approved or waiting
    /// (`cloud.removal-leaves-connect-flows` leaves them to be redeemed).
    pub removal_denies_connect_flows: bool,
    /// Removing a DMS ends its shares (`cloud.removal-keeps-shares` leaves their links open).
    pub removal_ends_shares: bool,
    /// The remote-access list looks the DMS up in the caller's organisation
    /// (`cloud.remote-access-list-refuses-everyone` swaps the two and finds none).
    pub list_finds_the_dms: bool,
}

impl AdminPolicy {
    pub fn from_faults(faults: &FaultSet) -> Self {
        Self {
            role_checked: !faults.is_on(Fault::CloudRemoteAccessMembersEnable),
            own_pages_only: !faults.is_on(Fault::CloudOrgAdminAcceptsCrossSite),
            keeps_an_owner: !faults.is_on(Fault::CloudLastOwnerCanLeave),
            stores_roles: !faults.is_on(Fault::CloudRolesKeptInMemory),
            stores_grants: !faults.is_on(Fault::CloudRemoteAccessKeptInMemory),
            removal_closes_tunnels: !faults.is_on(Fault::CloudRevokeKeepsTunnels),
            removal_denies_connect_flows: !faults.is_on(Fault::CloudRemovalLeavesConnectFlows),
            removal_ends_shares: !faults.is_on(Fault::CloudRemovalKeepsShares),
            list_finds_the_dms: !faults.is_on(Fault::CloudRemoteAccessListRefusesEveryone),
        }
    }
}

/// Refusals, in their wire form: a status and a JSON error.
#[derive(Debug, thiserror::Error)]
pub(super) enum Refusal {
    #[error("login_required")]
    NoSession,
    #[error("owner_or_admin_required")]
    NotAdministrator,
    #[error("owner_required")]
    NotOwner,
    #[error("unknown_dms")]
    UnknownDms,
    #[error("unknown_account")]
    UnknownAccount,
    #[error("invalid_request")]
    BadRequest(String),
    /// A browser's request from a page that is not the connection host's own.
    #[error("cross_site_request")]
    CrossSite,
    /// The organisation's only Owner giving up the role: no one could ever give it again.
    #[error("last_owner")]
    LastOwner,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = match &self {
            Refusal::NoSession => StatusCode::UNAUTHORIZED,
            Refusal::NotAdministrator | Refusal::NotOwner | Refusal::CrossSite => {
                StatusCode::FORBIDDEN
            }
            Refusal::UnknownDms | Refusal::UnknownAccount => StatusCode::NOT_FOUND,
            Refusal::BadRequest(_) => StatusCode::BAD_REQUEST,
            Refusal::LastOwner => StatusCode::CONFLICT,
        };
        let mut body = json!({ "error": self.to_string() });
        if let Refusal::BadRequest(why) = &self {
            body["error_description"] = why.clone().into();
        }
        (status, Json(body)).into_response()
    }
}

/// The signed-in administrator of an organisation behind the request.
/// The administrator behind the request and the DMS of their organisation its `dms_id` names;
/// the session is checked first, so whoever is not signed in learns nothing of the parameters.
pub(super) fn administered_dms<'a>(
    state: &CloudState,
    headers: &HeaderMap,
    params: &'a Params,
) -> Result<(SignedIn, &'a str), Refusal> {
    let caller = administrator(state, headers)?;
    let dms_id = params
        .get("dms_id")
        .ok_or_else(|| Refusal::BadRequest("missing parameter dms_id".into()))?;
    if !state.tokens.account_reaches(&caller.organization, dms_id) {
        return Err(Refusal::UnknownDms);
    }
    Ok((caller, dms_id))
}

pub(super) fn administrator(state: &CloudState, headers: &HeaderMap) -> Result<SignedIn, Refusal> {
    if state.org_admin.own_pages_only
        && !super::own_pages::from_own_pages(headers, &state.connection_url)
    {
        return Err(Refusal::CrossSite);
    }
    let caller = state
        .accounts
        .signed_in(headers)
        .ok_or(Refusal::NoSession)?;
    if caller.organization.is_empty() {
        return Err(Refusal::NotAdministrator);
    }
    if state.org_admin.role_checked && !caller.role.administers() {
        return Err(Refusal::NotAdministrator);
    }
    Ok(caller)
}

/// `POST /api/org/members/role` with `email` and `role`: sets the role of an account of the
/// caller's organisation. Only an Owner gives or takes the Owner role.
pub(crate) async fn set_role(
    State(state): State<Arc<CloudState>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let answer = (|| {
        let caller = administrator(&state, &headers)?;
        let email = params
            .get("email")
            .ok_or_else(|| Refusal::BadRequest("missing parameter email".into()))?;
        let role: OrgRole = params
            .get("role")
            .unwrap_or_default()
            .parse()
            .map_err(Refusal::BadRequest)?;
        let (organization, current) = state
            .accounts
            .membership(email)
            .filter(|(org, _)| *org == caller.organization)
            .ok_or(Refusal::UnknownAccount)?;
        if (role == OrgRole::Owner || current == OrgRole::Owner) && caller.role != OrgRole::Owner {
            return Err(Refusal::NotOwner);
        }
        if current == OrgRole::Owner
            && role != OrgRole::Owner
            && state.org_admin.keeps_an_owner
            && state.accounts.count_in_role(&organization, OrgRole::Owner) <= 1
        {
            return Err(Refusal::LastOwner);
        }
        state.accounts.set_role(email, role);
        if state.org_admin.stores_roles
            && let Some(record) = state.accounts.record(email)
            && let Err(e) = state.store.put(&record)
        {
            state
                .log
                .info(format!("the role of {email} not stored: {e}"));
        }
        state.log.info(format!(
            "{} set the role of {email} in {organization} to {role}",
            caller.email
        ));
        Ok(Json(
            json!({ "email": email.to_ascii_lowercase(), "role": role }),
        ))
    })();
    answer.into_response()
}

/// `POST /api/org/remote-access` with `dms_id` and `accounts` (addresses, comma-separated;
/// none switches remote access off): who may reach that DMS remotely.
pub(crate) async fn set_remote_access(
    State(state): State<Arc<CloudState>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let answer = (|| {
        let (caller, dms_id) = administered_dms(&state, &headers, &params)?;
        let mut accounts = BTreeSet::new();
        for email in params
            .get("accounts")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            match state.accounts.membership(email) {
                Some((org, _)) if org == caller.organization => {
                    accounts.insert(email.to_ascii_lowercase());
                }
                _ => return Err(Refusal::UnknownAccount),
            }
        }
        set_grants(&state, &caller.organization, dms_id, accounts.clone());
        state.log.info(format!(
            "{} set remote access on DMS {dms_id} to {} account(s)",
            caller.email,
            accounts.len()
        ));
        Ok(Json(json!({ "dms_id": dms_id, "accounts": accounts })))
    })();
    answer.into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct DmsQuery {
    dms_id: String,
}

/// `GET /api/org/remote-access?dms_id=…`: the accounts enabled on a DMS of the caller's
/// organisation.
pub(crate) async fn remote_access(
    State(state): State<Arc<CloudState>>,
    headers: HeaderMap,
    query: Result<Query<DmsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let answer = (|| {
        // The session first: whoever is not signed in learns nothing of the parameters.
        let caller = administrator(&state, &headers)?;
        let Ok(Query(query)) = query else {
            return Err(Refusal::BadRequest("dms_id is required".to_owned()));
        };
        let reaches = if state.org_admin.list_finds_the_dms {
            state
                .tokens
                .account_reaches(&caller.organization, &query.dms_id)
        } else {
            state
                .tokens
                .account_reaches(&query.dms_id, &caller.organization)
        };
        if !reaches {
            return Err(Refusal::UnknownDms);
        }
        let accounts = state.remote_access.accounts(&query.dms_id);
        Ok(Json(
            json!({ "dms_id": query.dms_id, "accounts": accounts }),
        ))
    })();
    answer.into_response()
}

/// Lets exactly `accounts` of `organization` reach `dms_id` remotely (none: off), written
/// through to the store so a restart or a restore serves it.
pub(super) fn set_grants(
    state: &CloudState,
    organization: &str,
    dms_id: &str,
    accounts: BTreeSet<String>,
) {
    state.remote_access.set(organization, dms_id, accounts);
    if state.org_admin.stores_grants
        && let Err(e) = state
            .store
            .put(&state.remote_access.record(organization, dms_id))
    {
        state
            .log
            .info(format!("remote access on DMS {dms_id} not stored: {e}"));
    }
}
