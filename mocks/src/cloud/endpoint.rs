/// The published names of dataminer.services that this mock serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    Connection,
    Sharing,
    Tunnel,
}

impl Endpoint {
    pub const ALL: [Endpoint; 3] = [Endpoint::Connection, Endpoint::Sharing, Endpoint::Tunnel];

    pub fn host(self) -> &'static str {
        match self {
            Endpoint::Connection => "connection.dataminer.services",
            Endpoint::Sharing => "sharing.dataminer.services",
            Endpoint::Tunnel => "tunnel.dataminer.services",
        }
    }

    pub fn scheme(self) -> &'static str {
        match self {
            Endpoint::Tunnel => "wss",
            Endpoint::Connection | Endpoint::Sharing => "https",
        }
    }

    /// The URL the agent is configured with: no port, as published.
    pub fn published_url(self) -> String {
        format!("{}://{}/", self.scheme(), self.host())
    }
}
