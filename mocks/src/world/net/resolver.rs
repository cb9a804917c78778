use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::world::{Clock, Observed};

/// One name lookup, as the environment's resolver saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub name: String,
    pub port: u16,
    pub answered: Option<SocketAddr>,
    pub at_unix: u64,
}

/// Maps the published `(name, port)` pairs onto loopback listeners and refuses everything else:
/// the DMS side cannot reach a destination the environment did not publish.
#[derive(Debug, Clone)]
pub struct Resolver {
    published: BTreeMap<(String, u16), SocketAddr>,
    lookups: Observed<Vec<Lookup>>,
    clock: Clock,
}

impl Resolver {
    pub fn new(clock: Clock) -> Self {
        Self {
            published: BTreeMap::new(),
            lookups: Observed::default(),
            clock,
        }
    }

    pub fn publish(&mut self, name: &str, port: u16, at: SocketAddr) {
        self.published.insert((name.to_ascii_lowercase(), port), at);
    }

    /// Answers a lookup and records it, answered or not.
    pub fn resolve(&self, name: &str, port: u16) -> Option<SocketAddr> {
        let answered = self
            .published
            .get(&(name.to_ascii_lowercase(), port))
            .copied();
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

    pub fn published(&self) -> impl Iterator<Item = (&str, u16, SocketAddr)> {
        self.published
            .iter()
            .map(|((name, port), addr)| (name.as_str(), *port, *addr))
    }

    pub fn lookups(&self) -> Vec<Lookup> {
        self.lookups.read(Vec::clone)
    }
}
