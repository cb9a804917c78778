//! The simulated systems of a dataminer.services deployment, each a real server on loopback:
//! the cloud, the agent (the DMS's Cloud Gateway), the WAF and the DataMiner API, plus the world
//! they share (clock, PKI, network, fault switches). `Environment` wires them together.
//!
//! A request's path is the folder tree: cloud → agent (over its tunnel) → waf → dma.

pub mod agent;
pub mod cloud;
pub mod dma;
pub mod dms;
mod env;
#[doc(hidden)]
pub mod fuzzing;
#[cfg(test)]
mod hostile_props;
/// The WebSocket-as-byte-stream adapter both ends of a tunnel run HTTP/2 on, below the cloud
/// and the agent both; public so a benchmark can stand up many light agents.
pub mod tunnel_io;
pub mod waf;
pub mod world;

pub use env::{Accounts, Dmz, EnvError, Environment, Hop, Options, SecondSite, SiteAccounts};
