//! Which DMS a relayed request goes to. Both relays into a tunnel (a viewer's, under a share's
//! link, and remote access, under `/dms/{id}/`) take the DMS from the cloud's own record: the
//! share the viewer session was opened for, or the DMS ID the account was checked against.
//! Nothing the request carries (a header, its Host, an absolute-form target, an encoded path)
//! chooses another tunnel.

use http::{HeaderMap, Uri, header};

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
    /// The first label of a host name under the sharing host, from the request's target or its
    /// `Host` (`cloud.relay-picks-dms-from-host`), as a cloud that half-moved to per-DMS host
    /// names would: the name the browser asked for names the tunnel.
    HostName,
}

impl RelayTarget {
    pub fn from_faults(faults: &FaultSet) -> Self {
        if faults.is_on(Fault::CloudRelayPicksDmsFromRequest) {
            RelayTarget::RequestHint
        } else if faults.is_on(Fault::CloudRelayPicksDmsFromHost) {
            RelayTarget::HostName
        } else {
            RelayTarget::Record
        }
    }

    /// The DMS whose tunnel carries a request for `uri` with `headers`, the record naming
    /// `recorded`.
    pub fn pick(self, recorded: &str, uri: &Uri, headers: &HeaderMap) -> String {
        let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let hinted = match self {
            RelayTarget::Record => None,
            RelayTarget::RequestHint => text(ROUTING_HINT)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
            RelayTarget::HostName => {
                uri.host()
                    .or_else(|| text(header::HOST.as_str()))
                    .and_then(|host| {
                        let host = host.split(':').next().unwrap_or(host);
                        let under = format!(".{}", super::Endpoint::Sharing.host());
                        host.strip_suffix(under.as_str())
                            .filter(|label| !label.is_empty() && !label.contains('.'))
                            .map(str::to_owned)
                    })
            }
        };
        hinted.unwrap_or_else(|| recorded.to_owned())
    }
}
