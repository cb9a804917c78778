use crate::world::Observed;

/// The first bytes a client sent on one connection to a cloud endpoint: its ClientHello when it
/// spoke TLS, whatever it sent when it did not.
#[derive(Debug, Clone)]
pub struct FirstFlight {
    pub endpoint: &'static str,
    /// The client's address, as the cloud saw it.
    pub peer: std::net::SocketAddr,
    pub bytes: Vec<u8>,
    pub at_unix: u64,
    /// When the cloud had it, in real time: with `peer`, which of the client's connections
    /// it came on (a port is reused once its socket is closed).
    pub received: std::time::Instant,
}

/// Every connection's first flight, in arrival order: what clients offered, byte for byte.
#[derive(Debug, Clone, Default)]
pub struct Hellos(Observed<Vec<FirstFlight>>);

impl Hellos {
    pub fn all(&self) -> Vec<FirstFlight> {
        self.0.read(Vec::clone)
    }

    pub(crate) fn record(&self, flight: FirstFlight) {
        self.0.update(|log| log.push(flight));
    }
}
