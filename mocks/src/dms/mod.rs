//! What the DMS's own parts share, below both the DMA and its Cloud Gateway: the permissions
//! the cloud connection depends on, what a share hands the gateway, the gateway channel's key,
//! and the control channel the DMA drives the gateway through. Neither side imports the other.

mod control;
mod gateway_key;
mod link;
mod permissions;
mod remote;
mod share;
mod viewing;

pub use control::{Caller, ControlAnswer, ControlError, ControlRequest, Pairing, Reported};
pub use gateway_key::{GATEWAY_KEY_HEADER, GatewayKey};
pub use link::{Asked, Gateway, read_line};
pub use permissions::Permission;
pub use remote::REMOTE_ACCOUNT_HEADER;
pub use share::{ShareNotice, Withdrawal};
pub use viewing::{SHARE_HEADER, SHARE_SESSION_HEADER, VIEWER_HEADER};

/// Every header the DMS's side trusts when the cloud or its gateway sets it: whatever a browser
/// sends under these names is removed before the cloud relays it into the tunnel.
pub const TRUSTED_HEADERS: &[&str] = &[
    SHARE_HEADER,
    VIEWER_HEADER,
    SHARE_SESSION_HEADER,
    REMOTE_ACCOUNT_HEADER,
    GATEWAY_KEY_HEADER,
];
