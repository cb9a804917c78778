//! The gateway channel's own authentication: the DMS makes one random key per DMS and hands it
//! to its Cloud Gateway (the agent), which sends it on every request it forwards; the DMA's
//! gateway listener serves only requests that carry it. A second loopback port alone would let
//! any local process that finds it log in as a share user; the key is what makes the gateway
//! the only way in (USER-4).

use std::fmt;

use crate::world::{Fault, FaultSet};

/// The header the Cloud Gateway's forwarded requests carry the key in.
pub const GATEWAY_KEY_HEADER: &str = "x-dataminer-gateway-key";

/// The per-DMS key of the gateway channel: 256 bits from the OS CSPRNG, made at start. Plain
/// bytes, so the agent's forwarder, copied onto every stream, can carry it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct GatewayKey([u8; 32]);

impl GatewayKey {
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::fill(&mut key);
        Self(key)
    }

    /// The key as the agent sends it: lowercase hex.
    pub fn expose(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The key as [`expose`](Self::expose) writes it, as a gateway process is configured with it.
    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut key = [0u8; 32];
        for (byte, pair) in key.iter_mut().zip(hex.as_bytes().chunks(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(Self(key))
    }

    /// The header line the agent sends it in: name and value.
    pub fn header(&self) -> (&'static str, String) {
        (GATEWAY_KEY_HEADER, self.expose())
    }
}

impl fmt::Debug for GatewayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GatewayKey(redacted)")
    }
}

/// Whom the gateway listener serves, settled once when the DMA starts.
#[derive(Debug, Clone)]
pub(crate) enum GatewayAuth {
    /// Only requests that carry the key, exactly once.
    Key(GatewayKey),
    /// Every request (`dma.gateway-open-to-all`): the listener's check was left out.
    Open,
}

impl GatewayAuth {
    pub fn from_faults(faults: &FaultSet, key: GatewayKey) -> Self {
        if faults.is_on(Fault::DmaGatewayOpenToAll) {
            GatewayAuth::Open
        } else {
            GatewayAuth::Key(key)
        }
    }

    /// Whether `headers` prove the request is the Cloud Gateway's; the reason when not.
    pub fn admit(&self, headers: &http::HeaderMap) -> Result<(), &'static str> {
        let GatewayAuth::Key(key) = self else {
            return Ok(());
        };
        let mut sent = headers.get_all(GATEWAY_KEY_HEADER).iter();
        match (sent.next(), sent.next()) {
            (Some(value), None) if same(value.as_bytes(), key.expose().as_bytes()) => Ok(()),
            (None, _) => Err("the gateway channel serves only the Cloud Gateway: no gateway key"),
            _ => Err("the gateway channel serves only the Cloud Gateway: wrong gateway key"),
        }
    }
}

/// Compares without stopping at the first difference, so timing says nothing about the key.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for v in values {
            map.append(GATEWAY_KEY_HEADER, v.parse().expect("a header value"));
        }
        map
    }

    #[test]
    fn only_the_key_sent_once_is_admitted() {
        let key = GatewayKey::generate();
        let auth = GatewayAuth::Key(key);
        assert!(auth.admit(&headers(&[&key.expose()])).is_ok());
        assert!(auth.admit(&headers(&[])).is_err());
        assert!(auth.admit(&headers(&["0"])).is_err());
        assert!(
            auth.admit(&headers(&[&key.expose(), &key.expose()]))
                .is_err()
        );
    }
}
