//! Every suite, in the order `conform list` shows them.

mod access;
pub(crate) mod network;
mod optin;
mod resilience;
pub(crate) mod sharing;
pub(crate) mod storage;
mod sweeps;
mod tls;
mod tokens;
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
        sweeps::scenarios(),
        network::scenarios(),
    ]
    .concat()
}
