//! The roles an account holds in its dataminer.services organisation, and how a session reads
//! them. An Owner or Admin connects DMSs (FLOW-1) and runs the organisation (its members'
//! roles, remote access); a Member uses what they enable.

use std::fmt;
use std::str::FromStr;

use crate::world::{Fault, FaultSet};

/// A role in an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum OrgRole {
    Owner,
    Admin,
    Member,
}

impl OrgRole {
    /// Whether the role administers its organisation: connects DMSs, sets roles and remote
    /// access.
    pub fn administers(self) -> bool {
        matches!(self, OrgRole::Owner | OrgRole::Admin)
    }

    pub fn name(self) -> &'static str {
        match self {
            OrgRole::Owner => "Owner",
            OrgRole::Admin => "Admin",
            OrgRole::Member => "Member",
        }
    }
}

impl fmt::Display for OrgRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for OrgRole {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [OrgRole::Owner, OrgRole::Admin, OrgRole::Member]
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| format!("no organisation role {text:?}"))
    }
}

/// Where a session's role comes from, settled once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoleSource {
    /// The account's role as it stands when the request comes.
    Current,
    /// The role the account had when the session was opened (`cloud.role-cached-in-session`):
    /// a demotion reaches open sessions only at their next sign-in.
    AtSignIn,
}

impl RoleSource {
    pub fn from_faults(faults: &FaultSet) -> Self {
        if faults.is_on(Fault::CloudRoleCachedInSession) {
            RoleSource::AtSignIn
        } else {
            RoleSource::Current
        }
    }
}
