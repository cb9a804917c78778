//! How scenarios act as people and outsiders: a DMS user on the DataMiner API, and anyone who
//! reaches the cloud from outside the DMS (the Administrator's browser, an attacker with a
//! stolen token). These use their own HTTP stack (reqwest, or raw bytes on a socket for
//! requests a client library would refuse to send), not the agent's.

mod cloud;
mod dma;
mod foreign;
mod gateway;
mod raw;
mod raw_tls;
mod recipient;

pub use cloud::{CloudClient, HeldTunnel, Hop, Reply, form_body};
pub use dma::{DmaClient, DmaReply, DmaSession};
pub use foreign::ForeignDms;
pub use gateway::{ASSERTION_TYPE, DEVICE_GRANT, KeyPair, ScriptedDms, Started};
pub use raw::{RawReply, exchange, exchange_with};
pub use raw_tls::{exchange_tls, host_line, send_tls};
pub use recipient::{Seen, ShareRecipient, Viewer, code_in, link_in, path_of};

use std::time::Duration;

/// How long a client keeps an idle connection for reuse: well under the environment's servers'
/// idle bound (15 s for the next request's head), so a client never sends on a connection the
/// server is closing at that moment — HTTP/1.1's keep-alive race, which a loaded machine hits.
const POOL_IDLE: Duration = Duration::from_secs(5);

/// The one way scenarios build an HTTP client.
pub fn http() -> reqwest::ClientBuilder {
    reqwest::Client::builder().pool_idle_timeout(POOL_IDLE)
}
