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
    let host_header = format!("{host}:{}", addr.port());
    let request = request_bytes(verb, target, &host_header, content_type, headers, body);
    Ok(send_and_read(&mut tls, &request).await)
}
