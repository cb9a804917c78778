//! The world's name service and its connector. Names resolve to addresses as the internet's
//! DNS would answer them: the published dataminer.services names to the published addresses,
//! other names a scenario puts in the world to addresses of their own. Those addresses are
//! labels only: the connector translates each to a loopback port, so no socket ever leaves
//! the machine, whatever address a component asks for.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::world::{Clock, Observed};

/// What dataminer.services' names resolve to on the internet, in the order names are
/// published here: the three primary addresses, then the backup one.
const PUBLISHED_ADDRESSES: [Ipv4Addr; 4] = [
    Ipv4Addr::new(52, 149, 106, 174),
    Ipv4Addr::new(20, 50, 217, 191),
    Ipv4Addr::new(20, 31, 240, 20),
    Ipv4Addr::new(20, 103, 147, 5),
];

/// One name lookup, as the environment's resolver saw it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Lookup {
    pub name: String,
    pub port: u16,
    /// The address the name resolved to (a label), with the port asked for.
    pub answered: Option<SocketAddr>,
    pub at_unix: u64,
}

/// A connection a component asked the connector for to an address nothing is published on:
/// where no DMS-side socket must ever go.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stray {
    /// The name (or the literal address) the component was connecting to.
    pub destination: String,
    pub address: SocketAddr,
    pub at_unix: u64,
}

/// The world's DNS records and the connector's translation of addresses to loopback ports.
#[derive(Debug, Clone)]
pub struct Resolver {
    records: BTreeMap<String, IpAddr>,
    routes: BTreeMap<SocketAddr, SocketAddr>,
    /// Where a connection to an address with no route goes: a listener that takes it and
    /// carries nothing.
    sinkhole: Option<SocketAddr>,
    lookups: Observed<Vec<Lookup>>,
    strays: Observed<Vec<Stray>>,
    clock: Clock,
}

impl Resolver {
    pub fn new(clock: Clock) -> Self {
        Self {
            records: BTreeMap::new(),
            routes: BTreeMap::new(),
            sinkhole: None,
            lookups: Observed::default(),
            strays: Observed::default(),
            clock,
        }
    }

    /// Publishes `name` on the next published address, and routes that address's `port` to
    /// `at`. A name published again keeps its address.
    pub fn publish(&mut self, name: &str, port: u16, at: SocketAddr) {
        let name = name.to_ascii_lowercase();
        let next = PUBLISHED_ADDRESSES[self.records.len() % PUBLISHED_ADDRESSES.len()];
        let address = *self.records.entry(name).or_insert(IpAddr::V4(next));
        self.routes.insert(SocketAddr::new(address, port), at);
    }

    /// Puts a name of the wider internet in the world: it resolves to `address`, which has no
    /// route unless one is given with [`Resolver::route`].
    pub fn answer(&mut self, name: &str, address: IpAddr) {
        self.records.insert(name.to_ascii_lowercase(), address);
    }

    /// Sends connections to `address` to `at` instead of where they were going.
    pub fn route(&mut self, address: SocketAddr, at: SocketAddr) {
        self.routes.insert(address, at);
    }

    /// The listener that takes connections to addresses with no route.
    pub fn sink_strays_at(&mut self, at: SocketAddr) {
        self.sinkhole = Some(at);
    }

    /// The same records and routes, with a lookup log of its own: another host's resolver
    /// (the DMZ proxy's), whose lookups are not the DMS's. Strays stay on the one record.
    pub fn for_another_host(&self) -> Self {
        Self {
            lookups: Observed::default(),
            ..self.clone()
        }
    }

    /// The address `name` has in the world, looked at by the world itself: no lookup on record.
    pub fn record_of(&self, name: &str) -> Option<IpAddr> {
        self.records.get(&name.to_ascii_lowercase()).copied()
    }

    /// Answers a lookup and records it, answered or not.
    pub fn resolve(&self, name: &str, port: u16) -> Option<SocketAddr> {
        let answered = self
            .records
            .get(&name.to_ascii_lowercase())
            .map(|address| SocketAddr::new(*address, port));
        let at_unix = self.clock.unix_seconds();
        self.lookups.update(|log| {
            log.push(Lookup {
                name: name.to_owned(),
                port,
                answered,
                at_unix,
            })
        });
        answered
    }

    /// The loopback port behind `address`; a connection to an address with no route is put
    /// on the strays' record and goes to the sinkhole (`None` without one).
    pub fn translate(&self, destination: &str, address: SocketAddr) -> Option<SocketAddr> {
        if let Some(at) = self.routes.get(&address) {
            return Some(*at);
        }
        let at_unix = self.clock.unix_seconds();
        self.strays.update(|log| {
            log.push(Stray {
                destination: destination.to_owned(),
                address,
                at_unix,
            })
        });
        self.sinkhole
    }

    /// Every routed address (a label) with the loopback port behind it.
    pub fn routes(&self) -> impl Iterator<Item = (SocketAddr, SocketAddr)> + '_ {
        self.routes.iter().map(|(label, at)| (*label, *at))
    }

    pub fn lookups(&self) -> Vec<Lookup> {
        self.lookups.read(Vec::clone)
    }

    /// Every connection asked for to an address with no route, in order.
    pub fn strays(&self) -> Vec<Stray> {
        self.strays.read(Vec::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_names_get_the_published_addresses_and_strays_are_recorded() {
        let mut resolver = Resolver::new(Clock::from_wall_clock());
        let cloud: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        resolver.publish("Connection.dataminer.services", 443, cloud);
        resolver.answer("elsewhere.example", "198.51.100.7".parse().unwrap());
        let label = resolver
            .resolve("connection.dataminer.services", 443)
            .unwrap();
        assert_eq!(label, "52.149.106.174:443".parse().unwrap());
        assert_eq!(resolver.translate("connection", label), Some(cloud));
        assert!(resolver.strays().is_empty());
        let stray = resolver.resolve("elsewhere.example", 443).unwrap();
        assert_eq!(resolver.translate("elsewhere.example", stray), None);
        assert_eq!(resolver.strays()[0].address, stray);
        assert_eq!(resolver.resolve("unknown.example", 443), None);
        assert_eq!(resolver.lookups().len(), 3);
    }
}
