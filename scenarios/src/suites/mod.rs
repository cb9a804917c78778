//! Every suite, in the order `conform list` shows them.

mod access;
mod cloud_sweeps;
pub(crate) mod network;
mod optin;
mod resilience;
pub(crate) mod sharing;
pub(crate) mod storage;
pub(crate) mod sweeps;
mod tls;
pub(crate) mod tokens;
pub(crate) mod tunnel;

use crate::Scenario;

pub(crate) fn all() -> Vec<Scenario> {
    [
        optin::scenarios(),
        tls::scenarios(),
        tokens::scenarios(),
        sharing::scenarios(),
        access::scenarios(),
        tunnel::scenarios(),
        resilience::scenarios(),
        storage::scenarios(),
        cloud_sweeps::scenarios(),
        network::scenarios(),
        sweeps::scenarios(),
    ]
    .concat()
}
