//! The agent's TLS client: TLS 1.2 only, trusting only the environment's CA, judging validity
//! on the environment's clock. Two fault switches loosen the certificate check.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::version::{TLS12, TLS13};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

use crate::world::{Clock, Fault, FaultSet};

pub fn client_config(
    roots: Arc<RootCertStore>,
    clock: &Clock,
    faults: &FaultSet,
) -> Result<Arc<rustls::ClientConfig>, Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = if faults.is_on(Fault::AgentOfferTls13) {
        &[&TLS13, &TLS12]
    } else {
        &[&TLS12]
    };
    let builder =
        rustls::ClientConfig::builder_with_details(provider.clone(), Arc::new(clock.clone()))
            .with_protocol_versions(versions)?;
    let leniency = if faults.is_on(Fault::AgentAcceptAnyCert) {
        Some((Leniency::AnyCertificate, None))
    } else if faults.is_on(Fault::AgentSkipHostnameCheck) {
        Some((Leniency::AnyName, None))
    } else if faults.is_on(Fault::AgentTunnelSkipsHostnameCheck) {
        // "The tunnel sits behind a load balancer whose certificate lacks the name."
        Some((Leniency::AnyName, Some(TUNNEL_HOST)))
    } else if faults.is_on(Fault::AgentTunnelAcceptsExpiredCert) {
        // "A long-lived tunnel must survive a certificate rotation that ran late."
        Some((Leniency::Expired, Some(TUNNEL_HOST)))
    } else {
        None
    };
    let config = match leniency {
        None => builder.with_root_certificates(roots).with_no_client_auth(),
        Some((leniency, only_for)) => {
            let algorithms = provider.signature_verification_algorithms;
            let strict = WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| Error::General(e.to_string()))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Lenient {
                    strict: Some(strict),
                    leniency,
                    only_for,
                    algorithms,
                }))
                .with_no_client_auth()
        }
    };
    Ok(Arc::new(config))
}

/// The published name of the tunnel endpoint, which two of the holes are cut for.
const TUNNEL_HOST: &str = "tunnel.dataminer.services";

#[derive(Debug, Clone, Copy)]
enum Leniency {
    AnyCertificate,
    AnyName,
    Expired,
}

/// The strict verifier with a hole in it, as a careless gateway would have. Handshake
/// signatures are always checked, with the provider's algorithms, as the strict verifier does.
#[derive(Debug)]
struct Lenient {
    /// `None`: no certificate check at all (whatever `leniency` says).
    strict: Option<Arc<WebPkiServerVerifier>>,
    leniency: Leniency,
    /// The hole is there only for this server name, when set.
    only_for: Option<&'static str>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let Some(strict) = &self.strict else {
            return Ok(ServerCertVerified::assertion());
        };
        let verdict =
            strict.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        let holed = self
            .only_for
            .is_none_or(|host| matches!(server_name, ServerName::DnsName(n) if n.as_ref() == host));
        if !holed {
            return verdict;
        }
        match (self.leniency, verdict) {
            (Leniency::AnyCertificate, _) => Ok(ServerCertVerified::assertion()),
            (
                Leniency::Expired,
                Err(Error::InvalidCertificate(
                    CertificateError::Expired | CertificateError::ExpiredContext { .. },
                )),
            ) => Ok(ServerCertVerified::assertion()),
            (
                Leniency::AnyName,
                Err(Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                )),
            ) => Ok(ServerCertVerified::assertion()),
            (_, verdict) => verdict,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `config` with its certificate check replaced by one that takes any certificate, as a
/// client that leaves the check to a TLS-inspecting proxy has it
/// (`agent.proxied-tls-trusts-the-proxy`). Handshake signatures are still checked.
pub(super) fn accepting_any_certificate(
    config: &Arc<rustls::ClientConfig>,
) -> Arc<rustls::ClientConfig> {
    let mut config = rustls::ClientConfig::clone(config);
    let algorithms = config.crypto_provider().signature_verification_algorithms;
    config
        .dangerous()
        .set_certificate_verifier(Arc::new(Lenient {
            strict: None,
            leniency: Leniency::AnyCertificate,
            only_for: None,
            algorithms,
        }));
    Arc::new(config)
}
