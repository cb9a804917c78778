//! An attacker's JWT toolkit: forge a JWS compact token with any header, claims and signing
//! (including none and raw bytes), read one without verifying it, and derive from a valid token
//! the battery of tokens every correct HS256 server must refuse.

mod attacks;
mod forge;

pub use attacks::{Attack, attacks};
pub use forge::{Signing, b64url, decode_unverified, forge, forge_raw};
