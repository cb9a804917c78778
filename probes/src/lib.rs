//! Probes that work against any endpoint, not only the mocks here: they speak the protocol
//! by hand (through `wire`) and report what the endpoint actually said. `jwt` is the
//! attacker's side of token validation: forged and tampered tokens to send.

pub mod jwt;
pub mod tls;
pub mod waf;

pub use tls::{
    Answer, CertificateSummary, Ending, Judgement, Premise, ProbeError, ProbeOptions, Refusal,
    SuiteResult, TlsReport, Verdict, VersionResult, classify, probe_tls, render_table,
};
