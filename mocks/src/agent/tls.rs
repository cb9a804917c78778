use std::sync::Arc;

use rustls::RootCertStore;

/// The agent's TLS client configuration: TLS 1.2 only, trusting only `roots`.
pub fn client_config(roots: Arc<RootCertStore>) -> Arc<rustls::ClientConfig> {
    let config = rustls::ClientConfig::builder_with_protocol_versions(&[&rustls::version::TLS12])
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}
