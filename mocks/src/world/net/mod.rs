//! The simulated network: a name service and connector for the published names, a dialer
//! every DMS-side component must use to go out, the DMS site's DMZ proxy, the sinkhole stray
//! connections end in, the plumbing servers share, the recorders that count what crossed, and
//! the conditions (toxics) a scenario puts on a hop.

mod bounds;
mod dial;
mod dmz;
mod listener;
mod partition;
mod redirector;
mod resolver;
mod rewind;
mod sinkhole;
#[cfg(test)]
mod slowloris;
mod toxics;
mod traffic;

pub use bounds::{BodyTimedOut, ReadBounds};
pub use dial::{NetError, Network};
pub use dmz::{DmzPolicy, ForwardProxy, ProxyTunnel};
pub use listener::{serve_connection, serve_connection_with, serve_http, serve_http_with};
pub use partition::Partition;
pub use redirector::start_redirector;
pub use resolver::{Lookup, Resolver, Stray};
pub use rewind::Rewind;
pub use sinkhole::start_sinkhole;
pub use toxics::{DialFrom, Direction, Toxic, ToxicId, ToxicProxy, Toxicated, Toxics};
pub use traffic::{Capture, Connection, Counters, Metered, Recorded, Traffic};
