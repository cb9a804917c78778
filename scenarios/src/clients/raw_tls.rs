//! One HTTP/1.1 request written byte for byte over TLS to a published cloud endpoint, trusting
//! only the environment's CA: what a recipient's own tool can send to the sharing host (any
//! verb, target, header or body), where a client library would refuse or tidy it.

use std::sync::Arc;

use mocks::Environment;
use mocks::cloud::Endpoint;

use super::raw::{RawReply, request_bytes, send_and_read};
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
    let host = host_line(env, endpoint)?;
    let request = request_bytes(verb, target, &host, content_type, headers, body);
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
    Ok(send_and_read(&mut tls, request).await)
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
