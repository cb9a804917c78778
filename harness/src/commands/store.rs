//! `conform store decrypt`: the store of a running `env up`, decrypted. The keys never leave
//! the environment: the command names a file, the environment's control endpoint opens it
//! with data keys the vault unwraps for the cloud's managed identity, and the tables come
//! back as JSON.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// Decrypts `db` (or the primary) through the control endpoint at `control`.
pub fn decrypt(control: &str, db: Option<&Path>) -> anyhow::Result<ExitCode> {
    let url: http::Uri = format!("{}/store/decrypt", control.trim_end_matches('/'))
        .parse()
        .context("--control takes the URL env up printed")?;
    let body = json!({ "db": db });
    let (status, answer) = super::runtime()?.block_on(post_json(&url, &body))?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    match status {
        200 => Ok(ExitCode::SUCCESS),
        // The environment read the file and a value did not open: a finding, not a misuse.
        422 => Ok(ExitCode::from(1)),
        _ => anyhow::bail!(
            "the control endpoint answered {status}: {}",
            answer.get("error").and_then(Value::as_str).unwrap_or("?")
        ),
    }
}

/// POSTs `body` to `url` (plain HTTP on loopback, as the control endpoint is served).
async fn post_json(url: &http::Uri, body: &Value) -> anyhow::Result<(u16, Value)> {
    let host = url.host().context("the control URL names no host")?;
    let port = url.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host, port))
        .await
        .with_context(|| format!("cannot reach the control endpoint {url}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("the control endpoint does not speak HTTP/1.1")?;
    tokio::spawn(connection);
    let request = http::Request::post(url.path())
        .header(http::header::HOST, format!("{host}:{port}"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(bytes::Bytes::from(serde_json::to_vec(body)?)))?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await?.to_bytes();
    let answer = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((status, answer))
}
