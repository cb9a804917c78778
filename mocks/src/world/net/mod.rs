//! The simulated network: a resolver for the published names, a dialer every DMS-side component
//! must use to go out, TLS listeners for the cloud, and the recorders that count what crossed.

mod dial;
mod listener;
mod resolver;
mod traffic;

pub use dial::{NetError, Network};
pub use listener::{Accepted, serve_http, serve_https, serve_tls};
pub use resolver::{Lookup, Resolver};
pub use traffic::{Counters, Metered, Traffic};
