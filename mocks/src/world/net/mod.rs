//! The simulated network: a resolver for the published names, a dialer every DMS-side component
//! must use to go out, the plumbing servers share, and the recorders that count what crossed.

mod bounds;
mod dial;
mod listener;
mod partition;
mod resolver;
mod rewind;
#[cfg(test)]
mod slowloris;
mod traffic;

pub use bounds::{BodyTimedOut, ReadBounds};
pub use dial::{NetError, Network};
pub use listener::{serve_connection, serve_connection_with, serve_http, serve_http_with};
pub use partition::Partition;
pub use resolver::{Lookup, Resolver};
pub use rewind::Rewind;
pub use traffic::{Counters, Metered, Traffic};
