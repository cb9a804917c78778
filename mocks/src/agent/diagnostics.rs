//! A diagnostics port, as gateways are sometimes shipped with: started from a thread of its
//! own, outside the agent's tasks and the environment's network, so nothing but the
//! operating system's socket table shows it. Only the `agent.listen-socket` fault opens it;
//! the gateway listens on nothing.

use std::net::TcpListener;

use crate::world::{Fault, FaultSet};

#[derive(Debug, Clone, Copy)]
pub(super) struct Diagnostics {
    listen: bool,
}

impl Diagnostics {
    pub fn from_faults(faults: &FaultSet) -> Self {
        Self {
            listen: faults.is_on(Fault::AgentListenSocket),
        }
    }

    /// Opens the port before the agent is up, as such a port is.
    pub fn start(self) {
        if !self.listen {
            return;
        }
        let Ok(listener) = TcpListener::bind("127.0.0.1:0") else {
            return;
        };
        std::thread::spawn(move || {
            // Each visitor is let go at once; the port stays open for the process's life.
            for visitor in listener.incoming() {
                drop(visitor);
            }
        });
    }
}
