//! How long the cloud waits on the network for what a peer owes it. Network bounds are real
//! time, not the environment's clock; each is a setting of the cloud, so an environment can
//! shorten one for a scenario that waits it out.

use std::time::Duration;

/// The cloud's real-time bounds on its peers.
#[derive(Debug, Clone, Copy)]
pub struct Waits {
    /// How long a tunnel's keepalive waits for the agent's pong.
    pub ping_timeout: Duration,
    /// How long the sharing relay waits for a DMS's answer head before it answers 504.
    pub relay_answer_within: Duration,
}

impl Default for Waits {
    fn default() -> Self {
        Self {
            ping_timeout: super::PING_TIMEOUT,
            relay_answer_within: super::relay_budget::ANSWER_WITHIN,
        }
    }
}
