//! What the DMS's own parts share, below both the DMA and its Cloud Gateway: the permissions
//! the cloud connection depends on, what a share hands the gateway, and the messages the DMA drives the gateway with. Neither
//! side imports the other for them.

mod control;
mod permissions;
mod share;
mod viewing;

pub use control::{Caller, ControlAnswer, ControlRequest, Pairing, Reported};
pub use permissions::Permission;
pub use share::ShareNotice;
pub use viewing::{SHARE_HEADER, SHARE_SESSION_HEADER, VIEWER_HEADER};
