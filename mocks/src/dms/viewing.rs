//! The headers that carry a recipient's viewing session down the DMS's side of the tunnel,
//! below the cloud, the gateway, the WAF and the DMA that all read or write them.
//!
//! The cloud, having authenticated the recipient, puts the share and an opaque viewer ID on
//! each stream it opens in the DMS's tunnel (and strips whatever a browser sent under those
//! names); only the Cloud Gateway reads them, and only on tunnel streams. The gateway then
//! attaches the share user's DMS-side session it opened for that viewer, overwriting anything
//! sent under that name; the WAF and the DMA's gateway channel read it from there.

/// The share a tunnel stream is for: set by the cloud, read by the Cloud Gateway.
pub const SHARE_HEADER: &str = "x-dataminer-share";
/// The opaque viewer a tunnel stream is for: set by the cloud, read by the Cloud Gateway.
pub const VIEWER_HEADER: &str = "x-dataminer-viewer";
/// The share user's DMS-side session the Cloud Gateway opened for the viewer: set by the
/// gateway only, read by the WAF and the DMA's gateway channel.
pub const SHARE_SESSION_HEADER: &str = "x-dataminer-share-session";

/// The shared-dashboard app's paths the DMA serves on the gateway channel, relative to where
/// the cloud mounts the share (`/s/{token}/`): what the WAF lets a viewer load besides calls.
pub const APP_PATHS: [&str; 3] = ["/", "/app.js", "/definition"];

/// Whether `path` (query included) is one of the app's.
pub fn is_app_path(path: &str) -> bool {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    APP_PATHS.contains(&path)
}
