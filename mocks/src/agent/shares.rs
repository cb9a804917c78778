//! The gateway's part in live sharing. When a DMS user shares a dashboard, the DMS hands its
//! gateway the new share user's credentials; the gateway logs that user in on the DMS side
//! (through the WAF, as it forwards recipients' calls) and tells the cloud about the share with
//! the session it opened, so the password never leaves the DMS. A deleted share is withdrawn
//! from the cloud the same way.

use bytes::Bytes;
use http::{Request, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::AgentError;
use super::actor::{Actor, Phase};
use super::forward::Forwarder;
use super::https::Answer;
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
        let connection = self.log_in_share_user(notice).await?;
        let form = announcement(notice, connection);
        let url = self.url("api/dms/shares");
        let answer = self.https.post_form_as(&url, &token, form).await?;
        refused_unless_success(&answer)?;
        Ok(answer.number("links_sent").unwrap_or(0))
    }

    pub(super) async fn withdraw(&mut self, share_id: &str) -> Result<(), AgentError> {
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

    /// `ConnectApp` as the share user on the DMS side: the connection string.
    async fn log_in_share_user(&self, notice: &ShareNotice) -> Result<String, AgentError> {
        let body = serde_json::json!({
            "host": "", "login": notice.login, "password": notice.password,
            "clientAppName": "Cloud Gateway", "clientAppVersion": "1",
            "clientComputerName": self.setup.dms_name,
        })
        .to_string();
        connect_app(self.forwarder(), body)
            .await
            .map_err(|why| AgentError::Cloud(format!("share user login failed: {why}")))
    }
}

/// `ConnectApp` with `body` at the DMS side the forwarder reaches, within its answer bound.
async fn connect_app(forwarder: Forwarder, body: String) -> Result<String, String> {
    let mut request = Request::post("/API/v1/Json.asmx/ConnectApp")
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
    match json.get("d").and_then(serde_json::Value::as_str) {
        Some(connection) if status.is_success() => Ok(connection.to_owned()),
        _ => Err(format!("HTTP {}", status.as_u16())),
    }
}

/// The form that tells the cloud about a share.
fn announcement(notice: &ShareNotice, connection: String) -> Vec<(String, String)> {
    let mut form = vec![
        ("share_id", notice.share_id.clone()),
        ("dashboard", notice.dashboard.clone()),
        ("shared_by", notice.shared_by.clone()),
        ("emails", notice.emails.join(",")),
        ("connection", connection),
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
