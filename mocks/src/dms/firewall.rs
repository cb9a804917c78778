//! What the DMA tells the WAF in front of it of its shares: the whitelist each share's
//! connection is held to, and when a share ends. The DMA knows its WAF only through this, so
//! neither imports the other.

use super::canonical::CanonicalCall;

pub trait ShareFirewall: Send + Sync + std::fmt::Debug {
    /// From now on, `share_id`'s user `login` may make exactly `calls`.
    fn register_share(&self, share_id: &str, login: &str, calls: Vec<CanonicalCall>);
    /// `share_id` has ended: nothing is let through for it any more.
    fn retire_share(&self, share_id: &str);
}
