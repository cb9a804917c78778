use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

/// A cloud-side failure a scenario switches on and off, to see what the agent does while the
/// cloud is unwell. Unlike a fault, an outage is something the specification says the DMS must
/// live through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    None,
    /// Every HTTP request gets a 500.
    ServerErrors,
    /// Every new connection is dropped before the TLS handshake: the cloud is down.
    Down,
    /// Every new connection is accepted and never answered: the cloud hangs.
    Silent,
}

/// The cloud's current outage, shared by its listeners.
#[derive(Debug, Clone, Default)]
pub struct OutageSwitch(Arc<AtomicU8>);

impl OutageSwitch {
    pub fn set(&self, outage: Outage) {
        let code = match outage {
            Outage::None => 0,
            Outage::ServerErrors => 1,
            Outage::Down => 2,
            Outage::Silent => 3,
        };
        self.0.store(code, Ordering::SeqCst);
    }

    pub fn get(&self) -> Outage {
        match self.0.load(Ordering::SeqCst) {
            1 => Outage::ServerErrors,
            2 => Outage::Down,
            3 => Outage::Silent,
            _ => Outage::None,
        }
    }
}
