//! `ShareDashboard` and `DeleteShare`: a DMS user with the "Share dashboards" permission shares
//! a dashboard with email addresses (an optional message and expiry, as the product has). The
//! DMA makes the share user and the WAF's whitelist, then hands the share to its Cloud Gateway,
//! which tells dataminer.services (the cloud mails the links). Deleting a share undoes all
//! three: the user and its sessions, the whitelist, the links.

use serde_json::{Map, Value, json};

use super::DmaState;
use super::error::{DmaError, text};
use super::users::{Permission, Role, User};
use crate::dms::{ControlError, ShareNotice, Withdrawal};

/// The most addresses one share goes to.
const MAX_RECIPIENTS: usize = 50;

/// `ShareDashboard{dashboardID, emails, message?, expiresAt?}`: answers the share ID, the share
/// user's login (never its password) and how many links the cloud sent. A DMS that is not
/// connected to the cloud gets the share on its side only, and no links.
pub(crate) async fn share_dashboard(
    state: &DmaState,
    user: &User,
    body: &Map<String, Value>,
) -> Result<Value, DmaError> {
    if !user
        .role
        .permissions()
        .contains(&Permission::ShareDashboards)
    {
        return Err(DmaError::Forbidden(format!(
            "{} lacks the permission \"{}\"",
            user.login,
            Permission::ShareDashboards
        )));
    }
    let dashboard_id = text(body, "dashboardID")?;
    let emails = emails(body)?;
    let message = match body.get("message") {
        None | Some(Value::Null) => None,
        Some(Value::String(m)) if m.trim().is_empty() => None,
        Some(Value::String(m)) => Some(m.clone()),
        Some(_) => return Err(DmaError::BadRequest("message must be a string".into())),
    };
    let expires_at = expiry(body)?;
    if expires_at.is_some_and(|at| at <= state.clock.unix_seconds()) {
        return Err(DmaError::BadRequest("expiresAt is in the past".into()));
    }
    let dashboard = fixtures::Dashboard::load(dashboard_id)
        .map_err(|_| DmaError::NoDashboard(dashboard_id.to_owned()))?;
    let created = {
        let data = state.data.lock().unwrap_or_else(|p| p.into_inner());
        state
            .shares
            .create(&dashboard, &data, &user.login, emails.clone(), expires_at)
            .map_err(DmaError::BadRequest)?
    };
    let share = &created.user;
    state
        .waf
        .register_share(&share.share_id, &share.login, created.whitelist.clone());
    let (login, password) = state
        .shares
        .credentials(&share.share_id)
        .ok_or_else(|| DmaError::NoShare(share.share_id.clone()))?;
    let notice = ShareNotice {
        share_id: share.share_id.clone(),
        dashboard: share.dashboard.clone(),
        shared_by: user.login.clone(),
        emails,
        message,
        expires_at,
        login,
        password,
    };
    let links_sent = match state.cloud_gateway.publish_share(notice).await {
        Ok(sent) => sent,
        Err(ControlError::NotConnected) => 0,
        Err(failed) => {
            // The cloud did not take the share: nothing of it may stay behind.
            state.shares.delete(&share.share_id);
            state.waf.retire_share(&share.share_id);
            return Err(DmaError::Gateway(failed));
        }
    };
    Ok(json!({
        "ShareID": share.share_id, "Login": share.login,
        "Dashboard": share.dashboard, "WhitelistedCalls": created.whitelist.len(),
        "LinksSent": links_sent, "ExpiresAt": expires_at,
    }))
}

fn emails(body: &Map<String, Value>) -> Result<Vec<String>, DmaError> {
    let Some(Value::Array(list)) = body.get("emails") else {
        return Err(DmaError::BadRequest("emails must be a list".into()));
    };
    let emails = list
        .iter()
        .map(|e| e.as_str().map(|e| e.trim().to_ascii_lowercase()))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| DmaError::BadRequest("emails must be strings".into()))?;
    let plausible = |e: &String| {
        e.split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
            && !e.contains(',')
            && !e.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    if emails.is_empty() || emails.len() > MAX_RECIPIENTS || !emails.iter().all(plausible) {
        return Err(DmaError::BadRequest(format!(
            "emails must be 1 to {MAX_RECIPIENTS} addresses"
        )));
    }
    Ok(emails)
}

/// `expiresAt`: Unix seconds, as a number or a numeric string; absent or null for none.
fn expiry(body: &Map<String, Value>) -> Result<Option<u64>, DmaError> {
    match body.get("expiresAt") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| DmaError::BadRequest("expiresAt must be Unix seconds".into())),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| DmaError::BadRequest("expiresAt must be Unix seconds".into())),
        Some(_) => Err(DmaError::BadRequest(
            "expiresAt must be Unix seconds".into(),
        )),
    }
}

/// `DeleteShare{shareID}`: by whoever shared it or an Administrator. The user goes, its sessions
/// end, the WAF retires its whitelist and the cloud its links.
pub(crate) async fn delete_share(
    state: &DmaState,
    user: &User,
    body: &Map<String, Value>,
) -> Result<Value, DmaError> {
    let share_id = text(body, "shareID")?;
    let owner = state
        .shares
        .all()
        .into_iter()
        .find(|s| s.share_id == share_id)
        .map(|s| s.shared_by)
        .ok_or_else(|| DmaError::NoShare(share_id.to_owned()))?;
    if owner != user.login && user.role != Role::Administrator {
        return Err(DmaError::Forbidden(format!(
            "only {owner} or an Administrator may delete this share"
        )));
    }
    state.shares.end(share_id);
    // The user is told whether the cloud has ended the links yet: a pending end goes out when
    // the gateway can reach the cloud again.
    match state.cloud_gateway.withdraw_share(share_id).await {
        Ok(Withdrawal::Sent) => Ok(json!({ "ShareID": share_id, "CloudEndPending": false })),
        Ok(Withdrawal::Pending(why)) => Ok(json!({
            "ShareID": share_id, "CloudEndPending": true,
            "Note": format!(
                "The share has ended on this DMS. dataminer.services could not be told yet \
                 ({why}): its links stay open until the Cloud Gateway reaches it, which it \
                 keeps trying."
            ),
        })),
        Err(ControlError::NotConnected) => {
            Ok(json!({ "ShareID": share_id, "CloudEndPending": false }))
        }
        Err(failed) => Err(DmaError::Gateway(failed)),
    }
}
