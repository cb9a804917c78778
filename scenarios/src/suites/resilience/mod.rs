//! Faults of the world: what the real network and a sick cloud do to a connected DMS, put on
//! its hops as toxics (`mocks::world::net::Toxic`) beside the cloud's outages. The refresh
//! endpoint failing for hours costs the DMS neither its valid token nor its tunnels
//! (`refresh`); a tunnel cut mid-transfer fails the stream cleanly, is dialled again, and a
//! write whose answer was lost is not sent twice (`cut`).

mod cut;
mod dms_side;
mod recipient_hop;
mod refresh;
mod restart;
mod skew;
mod viewer;

use mocks::world::Fault;

use crate::{Catch, Scenario, Suite};

pub(crate) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "resilience.refresh-outage-keeps-the-valid-token",
            suite: Suite::Resilience,
            title: "While the refresh endpoint resets, hangs and answers 500 for hours, the DMS keeps its valid token and tunnels, and renews once the cloud is back, before expiry",
            requirements: &["TOK-4", "TUN-2"],
            catches: const {
                &[Catch::by(
                    Fault::AgentDropTokenOnRefreshError,
                    "refresh-granted-after-recovery",
                )]
            },
            body: |ctx| Box::pin(refresh::outage_keeps_the_valid_token(ctx)),
        },
        Scenario {
            id: "resilience.lost-answer-write-not-applied-twice",
            suite: Suite::Resilience,
            title: "A tunnel reset mid-transfer fails the viewer's read cleanly and is dialled again; a write whose answer is lost on the DMS side is executed once and answered 502",
            requirements: &["TUN-2", "TUN-4"],
            catches: const {
                &[
                    Catch::by(Fault::AgentRetryWrites, "write-executed-once"),
                    Catch::by(Fault::AgentMaskDmsErrors, "lost-answer-is-a-bad-gateway"),
                ]
            },
            body: |ctx| Box::pin(cut::cut_mid_transfer(ctx)),
        },
        Scenario {
            id: "resilience.dms-side-down-is-a-clear-bad-gateway",
            suite: Suite::Resilience,
            title: "Behind a healthy tunnel, a slow DMA still answers, an unreachable WAF or DMA is a 502 to the caller, and the tunnel stays up",
            requirements: &["TUN-4"],
            catches: const {
                &[Catch::by(
                    Fault::AgentMaskDmsErrors,
                    "dms-side-down-is-a-bad-gateway",
                )]
            },
            body: |ctx| Box::pin(dms_side::down_is_a_clear_bad_gateway(ctx)),
        },
        Scenario {
            id: "resilience.dms-clock-behind-stays-connected",
            suite: Suite::Resilience,
            title: "A DMS whose clock is five minutes behind the cloud's connects, renews and keeps its tunnels for a week and a day; the cloud accepts what it signs within the stated allowance only",
            requirements: &["TOK-3", "TOK-4"],
            catches: const {
                &[Catch::by(
                    Fault::AgentNoSkewAllowance,
                    "device-authorization-granted-across-skew",
                )]
            },
            body: |ctx| Box::pin(skew::dms_clock_off(ctx, -skew::DRIFT_SECS)),
        },
        Scenario {
            id: "resilience.dms-clock-ahead-stays-connected",
            suite: Suite::Resilience,
            title: "A DMS whose clock is five minutes ahead of the cloud's connects, renews and keeps its tunnels for a week and a day; the cloud accepts what it signs within the stated allowance only",
            requirements: &["TOK-3", "TOK-4"],
            catches: const {
                &[Catch::by(
                    Fault::AgentNoSkewAllowance,
                    "device-authorization-granted-across-skew",
                )]
            },
            body: |ctx| Box::pin(skew::dms_clock_off(ctx, skew::DRIFT_SECS)),
        },
        Scenario {
            id: "resilience.cloud-restart-keeps-agents-on-their-token",
            suite: Suite::Resilience,
            title: "After the cloud restarts (connections and tunnel table lost, its store kept), the DMS is back on its tunnels with the token it held, without a new connect flow",
            requirements: &["TUN-2", "TOK-4"],
            catches: const {
                &[Catch::by(
                    Fault::CloudForgetTunnelsOnRestart,
                    "tunnels-back-on-the-held-token",
                )]
            },
            body: |ctx| Box::pin(restart::agents_come_back_on_their_token(ctx)),
        },
        Scenario {
            id: "resilience.stalled-recipient-holds-only-its-own-stream",
            suite: Suite::Resilience,
            title: "A recipient whose network stops reading mid-download stalls only its own stream: other calls on the DMS's tunnels are answered meanwhile, the tunnel stays up, and the recipient is answered once its network is back",
            requirements: &["TUN-4"],
            catches: const {
                &[Catch::by(
                    Fault::AgentNoFlowControl,
                    "answered-before-the-stall-ended",
                )]
            },
            body: |ctx| Box::pin(recipient_hop::slow_recipient_stalls_only_itself(ctx)),
        },
    ]
}
