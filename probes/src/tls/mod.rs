//! The TLS probe: which protocol versions and TLS 1.2 cipher suites an endpoint accepts, and
//! the certificate chain it presents, found the way testssl.sh or sslyze would, one fresh
//! connection per question and never a finished handshake.

mod certificates;
mod error;
mod exchange;
mod probe;
mod report;
mod table;
mod target;

pub use error::ProbeError;
pub use probe::{ProbeOptions, probe_tls};
pub use report::{Answer, CertificateSummary, SuiteResult, TlsReport, VersionResult};
pub use table::render_table;
