//! An attacker's JWT toolkit: forge a JWS compact token with any header, claims and signing
//! (including none and raw bytes), read one without verifying it, derive from a valid token
//! the battery of tokens every correct HS256 server must refuse, and send the part of it that
//! needs no secret to any endpoint (`probe`), with a real token past its `exp` (or before its
//! `nbf`), and try the token's HMAC offline against a list of common secrets (`weak`).

mod attacks;
mod forge;
mod probe;
mod weak;

pub use attacks::{Attack, attacks, without_secret};
pub use forge::{Signing, b64url, decode_unverified, forge, forge_raw};
pub use probe::{
    JwtCase, JwtProbeError, JwtProbeOptions, JwtReport, JwtVerdict, probe_jwt, render_jwt_table,
};
pub use weak::{WeakSecretCheck, WeakSecretError, check_weak_secret};
