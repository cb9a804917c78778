//! The TLS probe: which protocol versions and TLS 1.2 cipher suites an endpoint accepts, and
//! the certificate chain it presents, found the way testssl.sh or sslyze would, one fresh
//! connection per question and never a finished handshake.

mod certificates;
mod classify;
mod error;
mod exchange;
mod probe;
mod report;
mod table;
mod target;
mod verdict;

pub use classify::{Ending, Judgement, classify};
pub use error::ProbeError;
pub use probe::{ProbeOptions, probe_tls};
pub use report::{Answer, CertificateSummary, Premise, SuiteResult, TlsReport, VersionResult};
pub use table::render_table;
pub use verdict::{Refusal, Verdict};
