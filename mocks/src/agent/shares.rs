//! The gateway's part in live sharing. When a DMS user shares a dashboard, the DMS hands its
//! gateway the new share user's credentials; the gateway keeps them (`viewers`: it signs the
//! user in per viewer, on the DMS side, when the cloud brings one) and tells the cloud about
//! the share: its ID, dashboard name and addresses, never a credential or a session of the
//! DMS. A deleted share is withdrawn from the cloud the same way, and its viewers' sessions
//! are dropped.

use bytes::Bytes;
use http::{Request, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::AgentError;
use super::actor::{Actor, Phase};
use super::forward::Forwarder;
use super::https::Answer;
use super::viewers::ShareLogin;
use crate::dms::ShareNotice;

/// The most the gateway reads of the DMS's answer to its login.
const LOGIN_ANSWER_LIMIT: usize = 64 * 1024;

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

/// `ConnectApp` with `body` at the DMS side the forwarder reaches: the connection string.
pub(super) async fn connect_app(forwarder: Forwarder, body: String) -> Result<String, String> {
    call(forwarder, "ConnectApp", body).await
}

/// `LogOut` of `session`: whether the DMS side answered it. A refusal (4xx: the session or its
/// share is already gone) is an answer; no answer, or a 5xx (the WAF could not reach the DMA),
/// is not.
pub(super) async fn log_out_answered(forwarder: Forwarder, session: &str) -> bool {
    let body = serde_json::json!({ "connection": session }).to_string();
    match call(forwarder, "LogOut", body).await {
        Ok(_) => true,
        Err(why) => why.starts_with("HTTP 4"),
    }
}

/// `method` with `body` at the DMS side the forwarder reaches, within its answer bound: the
/// answer's `d` as text.
async fn call(forwarder: Forwarder, method: &str, body: String) -> Result<String, String> {
    let mut request = Request::post(format!("/API/v1/Json.asmx/{method}"))
        .header(header::HOST, forwarder.target.to_string())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    forwarder.authenticate(request.headers_mut())?;
    let asking = async move {
        let socket = TcpStream::connect(forwarder.target)
            .await
            .map_err(|e| e.to_string())?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(socket))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let answer = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = answer.status();
        let bytes = Limited::new(answer.into_body(), LOGIN_ANSWER_LIMIT)
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok::<_, String>((status, bytes))
    };
    let (status, bytes) = tokio::time::timeout(forwarder.answer_within, asking)
        .await
        .map_err(|_| "the DMS side did not answer in time".to_owned())??;
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    match json.get("d") {
        Some(serde_json::Value::String(text)) if status.is_success() => Ok(text.clone()),
        Some(other) if status.is_success() => Ok(other.to_string()),
        _ => Err(format!("HTTP {}", status.as_u16())),
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
