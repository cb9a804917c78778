//! Ends the cloud has not heard of yet. A share deleted on the DMS while the gateway cannot
//! tell the cloud (not connected, the cloud unreachable, a refresh under way that failed) is
//! kept as a pending withdrawal, and sent at every tick of a connected gateway until the cloud
//! has taken it: the links and open viewers end as soon as the cloud can know (SHARE-5). The
//! DMS tells its user that the end is pending meanwhile. The pending ends are on the DMS's disk
//! (its credential store) as well, so a gateway restarted while offline still sends them.

use super::AgentError;
use super::actor::Actor;
use super::phase::Phase;
use crate::dms::Withdrawal;

impl Actor {
    /// Tells the cloud of `share_id`'s end now, or keeps it for later.
    pub(super) async fn withdraw_or_keep(
        &mut self,
        share_id: &str,
    ) -> Result<Withdrawal, AgentError> {
        match self.withdraw(share_id).await {
            Ok(()) => Ok(Withdrawal::Sent),
            Err(why) if self.policy.keep_pending_withdrawals => {
                if !self.pending_withdrawals.iter().any(|s| s == share_id) {
                    self.pending_withdrawals.push(share_id.to_owned());
                    self.keep_pending_withdrawals();
                }
                Ok(Withdrawal::Pending(why.to_string()))
            }
            // A gateway that forgets them answers as it always did: not connected is "done".
            Err(AgentError::NotConnected) => Ok(Withdrawal::Sent),
            Err(failed) => Err(failed),
        }
    }

    /// Sends every pending withdrawal, in the order the shares were deleted; keeps the ones
    /// the cloud still cannot take.
    pub(super) async fn send_pending_withdrawals(&mut self) {
        if self.pending_withdrawals.is_empty() || !matches!(self.phase, Phase::Connected(_)) {
            return;
        }
        let pending = std::mem::take(&mut self.pending_withdrawals);
        for share_id in pending {
            if self.withdraw(&share_id).await.is_err() {
                self.pending_withdrawals.push(share_id);
            }
        }
        self.keep_pending_withdrawals();
    }

    /// The pending withdrawals a gateway started on this DMS's disk finds there.
    pub(super) fn pending_withdrawals_on_disk(&self) -> Vec<String> {
        if self.policy.persist_pending_withdrawals {
            self.setup.store.pending_withdrawals()
        } else {
            Vec::new()
        }
    }

    fn keep_pending_withdrawals(&self) {
        if self.policy.persist_pending_withdrawals {
            self.setup
                .store
                .save_pending_withdrawals(&self.pending_withdrawals);
        }
    }
}
