//! How scenarios act as people and outsiders: a DMS user on the DataMiner API, and anyone who
//! reaches the cloud from outside the DMS (the Administrator's browser, an attacker with a
//! stolen token). These use their own HTTP stack (reqwest, or raw bytes on a socket for
//! requests a client library would refuse to send), not the agent's.

mod cloud;
mod dma;
mod gateway;
mod raw;
mod recipient;

pub use cloud::{CloudClient, Hop, Reply, form_body};
pub use dma::{DmaClient, DmaReply, DmaSession};
pub use gateway::{ASSERTION_TYPE, DEVICE_GRANT, KeyPair, ScriptedDms, Started};
pub use raw::{RawReply, exchange};
pub use recipient::{Seen, ShareRecipient, Viewer, link_in, path_of};
