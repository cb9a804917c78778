use std::sync::Arc;

use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;

/// Certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// rcgen refused the parameters or failed to sign.
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused a certificate we made.
    #[error("generated certificate rejected by rustls: {0}")]
    Rustls(#[from] rustls::Error),
    /// A validity window fell outside what a certificate can say.
    #[error("certificate validity out of range: {0}")]
    Validity(#[from] time::error::ComponentRange),
}

/// When a leaf is valid, relative to the moment it is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// From an hour ago for 90 days, as an ACME-issued certificate would be.
    Current,
    /// Ended yesterday.
    Expired,
    /// Starts tomorrow.
    NotYetValid,
}

impl Validity {
    const DAY: Duration = Duration::from_secs(24 * 3600);

    /// `(not_before, not_after)` as offsets from now, in seconds.
    fn window(self) -> (i64, i64) {
        let day = Self::DAY.as_secs() as i64;
        match self {
            Validity::Current => (-3600, 90 * day),
            Validity::Expired => (-30 * day, -day),
            Validity::NotYetValid => (day, 90 * day),
        }
    }
}

/// The environment's own certificate authority, made in memory when the environment starts.
/// Nothing of it is ever written to the repository.
#[derive(Debug)]
pub struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate chain with its private key, ready for a rustls server.
#[derive(Debug)]
pub struct Leaf {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Leaf {
    /// A rustls server configuration presenting this leaf, speaking `versions` only.
    pub fn server_config(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Result<rustls::ServerConfig, PkiError> {
        let config = rustls::ServerConfig::builder_with_protocol_versions(versions)
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        Ok(config)
    }
}

impl Pki {
    pub fn generate() -> Result<Self, PkiError> {
        Self::named("conform test CA (generated at run time)")
    }

    /// A CA nobody trusts, under a name of its own, so a chain from it fails for what it is:
    /// an unknown issuer.
    pub fn stranger() -> Result<Self, PkiError> {
        Self::named("a stranger's CA (generated at run time)")
    }

    fn named(common_name: &str) -> Result<Self, PkiError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "conform");
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        Ok(Self { ca })
    }

    /// A leaf for `names`, signed by this CA, valid as `validity` says relative to `now_unix`.
    pub fn leaf(
        &self,
        names: &[&str],
        now_unix: u64,
        validity: Validity,
    ) -> Result<Leaf, PkiError> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone())?;
        let now = now_unix as i64;
        let (from, until) = validity.window();
        params.not_before = OffsetDateTime::from_unix_timestamp(now + from)?;
        params.not_after = OffsetDateTime::from_unix_timestamp(now + until)?;
        if let Some(first) = names.first() {
            params
                .distinguished_name
                .push(DnType::CommonName, first.as_str());
        }
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.ca)?;
        Ok(Leaf {
            chain: vec![cert.der().clone(), self.ca.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        })
    }

    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.ca.der().clone()
    }

    /// A root store holding this CA alone: what the agent trusts.
    pub fn roots(&self) -> Result<Arc<RootCertStore>, PkiError> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca_der())?;
        Ok(Arc::new(roots))
    }
}
