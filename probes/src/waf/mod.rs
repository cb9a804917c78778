//! The attack corpus (`fixtures/waf-attacks/`) against any WAF: one whitelisted call, given as
//! a file, is mutated as every case says, each mutation sent as its own request, and each
//! answer judged allowed or blocked by the status codes the call file names. A mutation the
//! corpus expects blocked that was allowed is a finding.

mod call;
mod mutate;
mod probe;

pub use call::{CallFile, CallFileError};
pub use mutate::{Mutation, mutate};
pub use probe::{WafCase, WafProbeError, WafReport, WafVerdict, probe_waf, render_waf_table};
