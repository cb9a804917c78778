//! The simulated network: a resolver for the published names, a dialer every DMS-side component
//! must use to go out, the plumbing servers share, the recorders that count what crossed, and
//! the conditions (toxics) a scenario puts on a hop.

mod bounds;
mod dial;
mod listener;
mod partition;
mod resolver;
mod rewind;
#[cfg(test)]
mod slowloris;
mod toxics;
mod traffic;

pub use bounds::{BodyTimedOut, ReadBounds};
pub use dial::{NetError, Network};
pub use listener::{serve_connection, serve_connection_with, serve_http, serve_http_with};
pub use partition::Partition;
pub use resolver::{Lookup, Resolver};
pub use rewind::Rewind;
pub use toxics::{Direction, Toxic, ToxicId, ToxicProxy, Toxicated, Toxics};
pub use traffic::{Capture, Counters, Metered, Recorded, Traffic};
