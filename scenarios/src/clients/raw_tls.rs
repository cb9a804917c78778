//! One HTTP/1.1 request written byte for byte over TLS to a published cloud endpoint, trusting
//! only the environment's CA: what a recipient's own tool can send to the sharing host (any
//! verb, target, header or body), where a client library would refuse or tidy it.

use std::sync::Arc;

use mocks::Environment;
use mocks::cloud::Endpoint;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::raw::RawReply;
use crate::Failure;

/// Writes one request to `endpoint` over TLS 1.2 and reads the whole answer (its body
/// de-chunked when the server chunked it).
pub async fn exchange_tls(
    env: &Environment,
    endpoint: Endpoint,
    verb: &str,
    target: &str,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<RawReply, Failure> {
    let mut head = format!(
        "{verb} {target} HTTP/1.1\r\nHost: {}\r\n",
        host_line(env, endpoint)?
    );
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
    send_tls(env, endpoint, &request).await
}

/// Writes `request` (its head and body, byte for byte as given: framing, header case, any
/// line) to `endpoint` over TLS 1.2 and reads the whole answer. `request` names the host
/// itself; [`host_line`] is the one `exchange_tls` writes.
pub async fn send_tls(
    env: &Environment,
    endpoint: Endpoint,
    request: &[u8],
) -> Result<RawReply, Failure> {
    let host = endpoint.host();
    let harness = |e: String| Failure::Harness(format!("raw TLS exchange with {host}: {e}"));
    let addr = env
        .published()
        .into_iter()
        .find(|(name, _)| *name == host)
        .map(|(_, addr)| addr)
        .ok_or_else(|| harness("not published".into()))?;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(env.ca_der())
        .map_err(|e| harness(e.to_string()))?;
    let mut config =
        rustls::ClientConfig::builder_with_protocol_versions(&[&rustls::version::TLS12])
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let socket = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| harness(e.to_string()))?;
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| harness(e.to_string()))?;
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, socket)
        .await
        .map_err(|e| harness(e.to_string()))?;
    // A server may answer and close before reading a large body: that is an answer too.
    let _ = tls.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    Ok(reply_of(&answer))
}

/// The `Host` header's value for `endpoint`, as published in `env` (name and port).
pub fn host_line(env: &Environment, endpoint: Endpoint) -> Result<String, Failure> {
    let host = endpoint.host();
    env.published()
        .into_iter()
        .find(|(name, _)| *name == host)
        .map(|(_, addr)| format!("{host}:{}", addr.port()))
        .ok_or_else(|| Failure::Harness(format!("{host} is not published")))
}

/// The status and body of an HTTP/1.1 answer.
fn reply_of(answer: &[u8]) -> RawReply {
    let text = String::from_utf8_lossy(answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return RawReply {
            status,
            body: String::new(),
        };
    };
    let chunked = head.lines().any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("transfer-encoding")
                && value.to_ascii_lowercase().contains("chunked")
        })
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    RawReply { status, body }
}

/// The data of a chunked body, as far as it is well formed.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = size.split(';').next().unwrap_or_default().trim();
        let Ok(size) = usize::from_str_radix(size, 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunked_answer_is_read_whole() {
        let reply = reply_of(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
        assert_eq!((reply.status, reply.body.as_str()), (200, "abcde"));
        let plain = reply_of(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\n\r\nno");
        assert_eq!((plain.status, plain.body.as_str()), (403, "no"));
    }
}
