use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::Failure;

/// An HTTP answer read off the socket.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RawReply {
    pub status: u16,
    pub body: String,
}

/// Writes one HTTP/1.1 request byte for byte, as given (any verb, any target, any body), and
/// reads the answer: for requests a well-behaved client library would refuse to send.
pub async fn exchange(
    addr: SocketAddr,
    verb: &str,
    target: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<RawReply, Failure> {
    exchange_with(addr, verb, target, content_type, &[], body).await
}

/// [`exchange`] with more header lines, written as given after the content type.
pub async fn exchange_with(
    addr: SocketAddr,
    verb: &str,
    target: &str,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<RawReply, Failure> {
    let harness = |e: std::io::Error| Failure::Harness(format!("raw exchange with {addr}: {e}"));
    let mut socket = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(harness)?;
    let mut head = format!("{verb} {target} HTTP/1.1\r\nHost: dma\r\n");
    if let Some(content_type) = content_type {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    // A server may answer and close before reading a large body: that is an answer too.
    let _ = socket.write_all(&request).await;
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok(RawReply { status, body })
}
