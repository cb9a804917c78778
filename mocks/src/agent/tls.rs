use std::sync::Arc;

use rustls::RootCertStore;

use crate::world::Clock;

/// The agent's TLS client configuration: TLS 1.2 only, trusting only `roots`, and judging
/// certificate validity on the environment's clock rather than the wall clock.
pub fn client_config(
    roots: Arc<RootCertStore>,
    clock: &Clock,
) -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_details(provider, Arc::new(clock.clone()))
        .with_protocol_versions(&[&rustls::version::TLS12])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
