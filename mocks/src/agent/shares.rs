//! The gateway's part in live sharing. When a DMS user shares a dashboard, the DMS hands its
//! gateway the new share user's credentials; the gateway keeps them (`viewers`: it signs the
//! user in per viewer, on the DMS side, when the cloud brings one) and tells the cloud about
//! the share: its ID, dashboard name and addresses, never a credential or a session of the
//! DMS. A deleted share is withdrawn from the cloud the same way, and its viewers' sessions
//! are dropped.

use super::AgentError;
use super::actor::Actor;
use super::https::Answer;
use super::phase::Phase;
use super::viewers::ShareLogin;
use crate::dms::ShareNotice;

impl Actor {
    /// The bearer token of a connected gateway.
    fn token(&self) -> Result<String, AgentError> {
        match (&self.phase, self.setup.store.stored()) {
            (Phase::Connected(_), Some(credentials)) => Ok(credentials.access_token),
            _ => Err(AgentError::NotConnected),
        }
    }

    pub(super) async fn publish(&mut self, notice: &ShareNotice) -> Result<u64, AgentError> {
        let token = self.token()?;
        self.viewers.admit(
            &notice.share_id,
            ShareLogin {
                login: notice.login.clone(),
                password: notice.password.clone(),
            },
        );
        let form = announcement(notice);
        let url = self.url("api/dms/shares");
        let answer = self.https.post_form_as(&url, &token, form).await?;
        refused_unless_success(&answer)?;
        Ok(answer.number("links_sent").unwrap_or(0))
    }

    pub(super) async fn withdraw(&mut self, share_id: &str) -> Result<(), AgentError> {
        // The DMS ended the share user and its sessions before it told the gateway (and the WAF
        // retired them): the gateway lets go of its viewers' sessions, so none is attached
        // again.
        self.viewers.withdraw(share_id);
        let token = self.token()?;
        let url = self.url("api/dms/shares/delete");
        let form = owned(vec![("share_id", share_id.to_owned())]);
        let answer = self.https.post_form_as(&url, &token, form).await?;
        // A share the cloud never heard of (made while the DMS was offline) has no links.
        if answer.status == http::StatusCode::NOT_FOUND {
            return Ok(());
        }
        refused_unless_success(&answer)
    }
}

/// The form that tells the cloud about a share.
fn announcement(notice: &ShareNotice) -> Vec<(String, String)> {
    let mut form = vec![
        ("share_id", notice.share_id.clone()),
        ("dashboard", notice.dashboard.clone()),
        ("shared_by", notice.shared_by.clone()),
        ("emails", notice.emails.join(",")),
    ];
    if let Some(message) = &notice.message {
        form.push(("message", message.clone()));
    }
    if let Some(at) = notice.expires_at {
        form.push(("expires_at", at.to_string()));
    }
    owned(form)
}

fn owned(form: Vec<(&str, String)>) -> Vec<(String, String)> {
    form.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn refused_unless_success(answer: &Answer) -> Result<(), AgentError> {
    if answer.status.is_success() {
        return Ok(());
    }
    Err(AgentError::Cloud(format!(
        "HTTP {} {}",
        answer.status.as_u16(),
        answer.text("error").unwrap_or_default()
    )))
}
