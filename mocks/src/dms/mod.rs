//! What the DMS's own parts share, below the DMA, its WAF and its Cloud Gateway: a call's
//! canonical form (how the DMA's whitelists and the WAF's matching read a call), the share
//! interface the DMA drives its WAF through, the permissions the cloud connection depends on, what a share hands the gateway, the gateway channel's key,
//! and the control channel the DMA drives the gateway through. Neither side imports the other.

pub mod canonical;
mod control;
mod firewall;
mod gateway_key;
pub(crate) mod ids;
mod link;
mod permissions;
mod remote;
mod share;
mod viewing;

pub use control::{Caller, ControlAnswer, ControlError, ControlRequest, Pairing, Reported};
pub use firewall::ShareFirewall;
pub use gateway_key::{GATEWAY_KEY_HEADER, GatewayKey, KeyRefusal};
pub use link::{Asked, Gateway, read_line};
pub use permissions::Permission;
pub use remote::REMOTE_ACCOUNT_HEADER;
pub use share::{ShareNotice, Withdrawal};
pub use viewing::{SHARE_HEADER, SHARE_SESSION_HEADER, VIEWER_HEADER, is_app_path};

/// Every header the DMS's side trusts when the cloud or its gateway sets it: whatever a browser
/// sends under these names is removed before the cloud relays it into the tunnel.
pub const TRUSTED_HEADERS: &[&str] = &[
    SHARE_HEADER,
    VIEWER_HEADER,
    SHARE_SESSION_HEADER,
    REMOTE_ACCOUNT_HEADER,
    GATEWAY_KEY_HEADER,
];
