//! Every suite, in the order `conform list` shows them.

pub(crate) mod network;
mod optin;
mod resilience;
mod sharing;
mod storage;
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
        tunnel::scenarios(),
        resilience::scenarios(),
        storage::scenarios(),
        network::scenarios(),
        sweeps::scenarios(),
    ]
    .concat()
}
