//! A viewer calling the DataMiner API through the tunnel, as the cloud's front end does: the
//! DMS's Administrator, on a session of their own.

use mocks::Environment;
use mocks::cloud::{self, TunnelBody, next_chunk};
use serde_json::{Value, json};

use crate::Failure;
use crate::steps::PROMPTLY;

/// Where DataMiner Web Services v1 takes its calls.
const API: &str = "/API/v1/Json.asmx/";

/// What one call came to: status and body, or the error its stream ended with.
pub(super) type Answer = Result<(u16, String), String>;

/// Sends one call through the tunnel and reads the answer to its end.
pub(super) async fn call(env: &Environment, method: &str, body: &Value) -> Answer {
    let request = cloud::post_json(&format!("{API}{method}"), body).map_err(|e| e.to_string())?;
    let answer = env
        .cloud()
        .send_through_tunnel(&env.accounts().dms_id, request)
        .await
        .map_err(|e| e.to_string())?;
    let status = answer.status().as_u16();
    let mut body: TunnelBody = answer.into_body();
    let mut read = Vec::new();
    while let Some(chunk) = next_chunk(&mut body).await.map_err(|e| e.to_string())? {
        read.extend_from_slice(&chunk);
    }
    Ok((status, String::from_utf8_lossy(&read).into_owned()))
}

/// `call`, bounded: an answer that does not come promptly is a timeout.
pub(super) async fn viewer_call(
    env: &Environment,
    method: &str,
    body: &Value,
) -> Result<Answer, Failure> {
    tokio::time::timeout(PROMPTLY, call(env, method, body))
        .await
        .map_err(|_| {
            Failure::timeout(
                format!("the answer to {method} through the tunnel"),
                PROMPTLY,
            )
        })
}

/// The Administrator's `ConnectApp` through the tunnel: the connection string.
pub(super) async fn connect_app(env: &Environment) -> Result<String, Failure> {
    let admin = &env.accounts().dms_admin;
    let login = json!({
        "host": "", "login": admin.login, "password": admin.password,
        "clientAppName": "viewer", "clientAppVersion": "1", "clientComputerName": "viewer",
    });
    let answer = viewer_call(env, "ConnectApp", &login).await?;
    let connection = match &answer {
        Ok((200, body)) => serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v["d"].as_str().map(str::to_owned)),
        _ => None,
    };
    connection.ok_or_else(|| {
        Failure::precondition(
            "ConnectApp through the tunnel",
            "a connection",
            answer.map(|(status, _)| status),
        )
    })
}
