//! What a DMS user's group lets them do with the element methods: the read-only group reads
//! and writes nothing. The DMA applies it on both listeners, the gateway's too: a DMS user
//! who comes through the tunnel (remote access) has the rights they have on the DMS, no more.

use super::error::DmaError;
use super::{Channel, Role};
use crate::world::{Fault, FaultSet};

/// The element methods that change something.
const WRITES: &[&str] = &["SetParameter"];

/// Where the DMA checks a DMS user's rights, settled once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UserRights {
    /// Checked on the gateway channel too (`dma.gateway-skips-user-rights` leaves it out,
    /// taking what the gateway forwards for authorised).
    pub on_gateway: bool,
}

impl UserRights {
    pub fn from_faults(faults: &FaultSet) -> Self {
        Self {
            on_gateway: !faults.is_on(Fault::DmaGatewaySkipsUserRights),
        }
    }

    /// Whether a user of `role` may call `method` on `channel`.
    pub fn check(self, channel: Channel, role: Role, method: &str) -> Result<(), DmaError> {
        if channel == Channel::Gateway && !self.on_gateway {
            return Ok(());
        }
        if WRITES.contains(&method) && !role.may_write() {
            return Err(DmaError::Forbidden(format!(
                "the {role:?} group is read-only: {method} is refused"
            )));
        }
        Ok(())
    }
}
