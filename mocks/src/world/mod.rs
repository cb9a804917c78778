//! What every simulated component shares: one clock, one PKI, one network with its recorders,
//! the fault switches, and the lifetime that stops them all.

pub mod capture;
mod clock;
mod failures;
mod faults;
mod lifetime;
pub mod net;
mod observe;
mod pki;
mod secret;

pub use clock::{Clock, SpanError, follow_real_time, parse_span};
pub use failures::FailureWindow;
pub use faults::{Fault, FaultSet, UnknownFault};
pub use lifetime::Lifetime;
pub use observe::Observed;
pub use pki::{Leaf, Pki, PkiError, Validity};
pub use secret::random_token;
