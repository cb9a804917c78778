//! `LogOut`s the DMA did not answer when the Cloud Gateway let a viewer's session go (the DMA
//! unreachable at that moment): sent again at every tick of the gateway's clock until the DMA
//! answers, so that the share user's session does not live on in the DMA's table. A share's
//! end drops its own (the DMA ended them with the share).

use super::actor::Actor;

impl Actor {
    pub(super) async fn send_unended_log_outs(&mut self) {
        for (share_id, session) in self.viewers.take_unended() {
            if !self.forwarder().log_out_answered(&session).await {
                self.viewers.unended(&share_id, session);
            }
        }
    }
}
