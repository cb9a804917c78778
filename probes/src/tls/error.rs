use std::net::SocketAddr;

/// Why the probe could not talk to the endpoint at all. Anything the endpoint says, refusals
/// included, is a result, not an error.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The target is not `HOST:PORT` with a host name, an IPv4 address or a bracketed IPv6
    /// address, and a port from 1 to 65535.
    #[error("{target:?} is not HOST:PORT: {reason}")]
    BadTarget {
        target: String,
        reason: &'static str,
    },
    /// The host name could not be resolved (the resolver failed or did not answer in time).
    #[error("could not resolve {host}")]
    Resolve {
        host: String,
        #[source]
        source: std::io::Error,
    },
    /// The host name resolved to no address.
    #[error("{host} resolves to no address")]
    NoAddress { host: String },
    /// No TCP connection could be made (refused, unreachable, or no answer in time).
    #[error("could not connect to {address}")]
    Connect {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}
