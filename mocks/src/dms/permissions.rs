use std::fmt;

/// A DMS permission the cloud connection depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Permission {
    ConnectToCloud,
    DisconnectFromCloud,
    /// Sharing dashboards with people outside the DMS (live sharing).
    ShareDashboards,
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Permission::ConnectToCloud => "Connect to cloud",
            Permission::DisconnectFromCloud => "Disconnect from cloud",
            Permission::ShareDashboards => "Share dashboards",
        })
    }
}
