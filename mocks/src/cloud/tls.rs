//! What the cloud's endpoints present in TLS: which versions they speak and which certificate
//! they show. The defaults are the specification's; the other settings exist so scenarios can
//! prove the agent refuses what it must refuse.

use rustls::SupportedProtocolVersion;
use rustls::version::{TLS12, TLS13};

use crate::world::{Fault, FaultSet, Leaf, Pki, PkiError, Validity};

/// The protocol versions the cloud's endpoints speak.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CloudVersions {
    /// As specified: TLS 1.2 only.
    #[default]
    Tls12Only,
    /// A server the agent must give up on.
    Tls13Only,
    /// A server that answers every hello with a (hand-written) TLS 1.0 ServerHello.
    Tls10Only,
    /// A server that answers every hello with a (hand-written) TLS 1.1 ServerHello.
    Tls11Only,
}

impl CloudVersions {
    /// The legacy version such a server answers with, if it is one: no rustls server speaks
    /// it, so the listener's front door writes the ServerHello itself.
    pub(crate) fn legacy_only(self) -> Option<wire::tls::Version> {
        match self {
            CloudVersions::Tls10Only => Some(wire::tls::Version::Tls10),
            CloudVersions::Tls11Only => Some(wire::tls::Version::Tls11),
            CloudVersions::Tls12Only | CloudVersions::Tls13Only => None,
        }
    }
}

/// What is wrong, if anything, with the certificate the cloud's endpoints present.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CertificateProblem {
    #[default]
    None,
    /// Signed by a CA the agent does not trust.
    UntrustedIssuer,
    /// Valid, but for another host name.
    WrongHost,
    Expired,
    NotYetValid,
}

/// The TLS face of the cloud.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CloudTls {
    pub versions: CloudVersions,
    pub certificate: CertificateProblem,
}

impl CloudTls {
    pub(crate) fn versions(
        self,
        faults: &FaultSet,
    ) -> &'static [&'static SupportedProtocolVersion] {
        static ONLY_12: &[&SupportedProtocolVersion] = &[&TLS12];
        static BOTH: &[&SupportedProtocolVersion] = &[&TLS13, &TLS12];
        static ONLY_13: &[&SupportedProtocolVersion] = &[&TLS13];
        match (self.versions, faults.is_on(Fault::CloudAcceptTls13)) {
            (CloudVersions::Tls12Only, false) => ONLY_12,
            (CloudVersions::Tls12Only, true) => BOTH,
            // Never reached by a hello: the front door answers for these.
            (CloudVersions::Tls10Only | CloudVersions::Tls11Only, _) => ONLY_12,
            (CloudVersions::Tls13Only, _) => ONLY_13,
        }
    }

    /// The leaf `host` presents, made by `pki` (or by a stranger's CA) at `now_unix`.
    pub(crate) fn leaf(self, pki: &Pki, host: &str, now_unix: u64) -> Result<Leaf, PkiError> {
        match self.certificate {
            CertificateProblem::None => pki.leaf(&[host], now_unix, Validity::Current),
            CertificateProblem::UntrustedIssuer => {
                Pki::stranger()?.leaf(&[host], now_unix, Validity::Current)
            }
            CertificateProblem::WrongHost => {
                pki.leaf(&["wrong-host.example"], now_unix, Validity::Current)
            }
            CertificateProblem::Expired => pki.leaf(&[host], now_unix, Validity::Expired),
            CertificateProblem::NotYetValid => pki.leaf(&[host], now_unix, Validity::NotYetValid),
        }
    }
}
