//! The gateway channel's own authentication: the DMS makes one random key per DMS and hands it
//! to its Cloud Gateway (the agent), which sends it on every request it forwards; the DMA's
//! gateway listener serves only requests that carry it. A second loopback port alone would let
//! any local process that finds it log in as a share user; the key is what makes the gateway
//! the only way in (USER-4).

use crate::dms::{GatewayKey, KeyRefusal};
use crate::world::{Fault, FaultSet};

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
        key.carried_by(headers).map_err(|refusal| match refusal {
            KeyRefusal::Missing => {
                "the gateway channel serves only the Cloud Gateway: no gateway key"
            }
            KeyRefusal::Wrong => {
                "the gateway channel serves only the Cloud Gateway: wrong gateway key"
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dms::GATEWAY_KEY_HEADER;

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
