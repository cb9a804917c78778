//! Which DMS a relayed request goes to. Both relays into a tunnel (a viewer's, under a share's
//! link, and remote access, under `/dms/{id}/`) take the DMS from the cloud's own record: the
//! share the viewer session was opened for, or the DMS ID the account was checked against.
//! Nothing the request carries (a header, its Host, an absolute-form target, an encoded path)
//! chooses another tunnel.

use http::HeaderMap;

use crate::world::{Fault, FaultSet};

/// The routing hint a front end in front of several relays might set, and that a careless
/// relay would honour: `cloud.relay-picks-dms-from-request` takes the DMS from it.
const ROUTING_HINT: &str = "x-dataminer-dms-id";

/// Where the relay takes the DMS's ID from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelayTarget {
    /// The cloud's record: the share's DMS, or the DMS the account was checked against.
    Record,
    /// A routing header of the request when it has one (`cloud.relay-picks-dms-from-request`),
    /// the record otherwise: whoever sends the request names the tunnel.
    RequestHint,
}

impl RelayTarget {
    pub fn from_faults(faults: &FaultSet) -> Self {
        if faults.is_on(Fault::CloudRelayPicksDmsFromRequest) {
            RelayTarget::RequestHint
        } else {
            RelayTarget::Record
        }
    }

    /// The DMS whose tunnel carries a request with `headers`, the record naming `recorded`.
    pub fn pick(self, recorded: &str, headers: &HeaderMap) -> String {
        let hinted = match self {
            RelayTarget::Record => None,
            RelayTarget::RequestHint => headers
                .get(ROUTING_HINT)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty()),
        };
        hinted.unwrap_or(recorded).to_owned()
    }
}
