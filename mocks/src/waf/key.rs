//! The WAF's own check of the Cloud Gateway's key. The WAF's listener is a loopback port any
//! local process can reach; what makes a request the gateway's is the per-DMS key the DMS
//! handed its Cloud Gateway, which the agent sends on every request it forwards. The WAF asks
//! for it first, before it reads the body: a request without it is refused there, counted
//! against no login and no remote account, bound to nothing, logged nowhere but in one tally,
//! and never forwarded. Otherwise a keyless process would spend the gateway's sign-in budget
//! (six wrong `ConnectApp`s lock a share user out for every new viewer, WAF-4, DOS-1) and a
//! forged remote-account header would spend an account's.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::dms::{GatewayKey, KeyRefusal};
use crate::world::{Fault, FaultSet};

/// Who vouches for the request being the gateway's, settled once when the WAF starts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeyCheck {
    /// The WAF itself, before anything else.
    AtTheWaf(GatewayKey),
    /// Only the DMA's gateway listener, after the WAF forwarded the request
    /// (`waf.counts-keyless-sign-ins`): a refusal for want of the key reads, to the WAF, as a
    /// failed sign-in, and counts against the login or the account the request names.
    LeftToTheDma,
}

impl KeyCheck {
    pub fn from_faults(faults: &FaultSet, key: GatewayKey) -> Self {
        if faults.is_on(Fault::WafCountsKeylessSignIns) {
            KeyCheck::LeftToTheDma
        } else {
            KeyCheck::AtTheWaf(key)
        }
    }

    /// Why `headers` are not the gateway's, when the WAF checks and they are not.
    pub fn refuses(&self, headers: &http::HeaderMap) -> Option<&'static str> {
        let KeyCheck::AtTheWaf(key) = self else {
            return None;
        };
        key.carried_by(headers).err().map(|refusal| match refusal {
            KeyRefusal::Missing => {
                "the WAF passes on only the Cloud Gateway's requests: no gateway key"
            }
            KeyRefusal::Wrong => {
                "the WAF passes on only the Cloud Gateway's requests: wrong gateway key"
            }
        })
    }
}

/// How many requests the WAF refused for want of the key. A tally, not a log: a local process
/// can send keyless requests without end, and they must cost the WAF no memory.
#[derive(Debug, Default)]
pub(crate) struct Keyless(AtomicU64);

impl Keyless {
    pub fn refused(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dms::GATEWAY_KEY_HEADER;

    #[test]
    fn only_the_key_sent_once_passes() {
        let key = GatewayKey::generate();
        let check = KeyCheck::from_faults(&FaultSet::none(), key);
        let mut headers = http::HeaderMap::new();
        assert!(check.refuses(&headers).is_some());
        headers.append(GATEWAY_KEY_HEADER, key.expose().parse().expect("a value"));
        assert!(check.refuses(&headers).is_none());
        headers.append(GATEWAY_KEY_HEADER, key.expose().parse().expect("a value"));
        assert!(check.refuses(&headers).is_some());
        let other = GatewayKey::generate().expose();
        let mut wrong = http::HeaderMap::new();
        wrong.append(GATEWAY_KEY_HEADER, other.parse().expect("a value"));
        assert!(check.refuses(&wrong).is_some());
    }
}
