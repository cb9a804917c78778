//! The attack corpus (`fixtures/waf-attacks/`) against any WAF: one whitelisted call, given as
//! a file, is mutated as every case says, each mutation sent as its own request, and each
//! answer judged allowed or blocked by the status codes the call file names. A mutation the
//! corpus expects blocked that was allowed is a finding. In recipient mode ([`recipient`]) the
//! probe is a share's recipient instead: it signs in, opens the mailed link and mutates every
//! call of the shared dashboard, sent through the cloud's relay as the recipient's browser
//! would.

mod call;
mod mutate;
mod probe;
mod recipient;

pub use call::{CallFile, CallFileError};
pub use mutate::{Mutation, mutate};
pub use probe::{WafCase, WafProbeError, WafReport, WafVerdict, probe_waf, render_waf_table};
pub use recipient::{Recipient, probe_as_recipient};
