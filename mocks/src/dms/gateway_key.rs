//! The gateway channel's key: the DMS makes one random key per DMS and hands it to its Cloud
//! Gateway, which sends it on every request it forwards; the DMA's gateway listener serves
//! only requests that carry it. Below the DMA and the gateway both, as both need it.

use std::fmt;

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

    /// Whether `headers` carry this key, exactly once: the request is the Cloud Gateway's. The
    /// reason when not. The DMA's gateway listener and the WAF both ask, each for itself.
    pub fn carried_by(&self, headers: &http::HeaderMap) -> Result<(), KeyRefusal> {
        let mut sent = headers.get_all(GATEWAY_KEY_HEADER).iter();
        match (sent.next(), sent.next()) {
            (Some(value), None) if same(value.as_bytes(), self.expose().as_bytes()) => Ok(()),
            (None, _) => Err(KeyRefusal::Missing),
            _ => Err(KeyRefusal::Wrong),
        }
    }
}

/// Why a request is not the Cloud Gateway's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    Missing,
    /// Another value, or the header more than once.
    Wrong,
}

/// Compares without stopping at the first difference, so timing says nothing about the key.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl fmt::Debug for GatewayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GatewayKey(redacted)")
    }
}
