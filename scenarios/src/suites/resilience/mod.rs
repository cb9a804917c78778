//! Faults of the world: what the real network and a sick cloud do to a connected DMS, put on
//! its hops as toxics (`mocks::world::net::Toxic`) beside the cloud's outages. The refresh
//! endpoint failing for hours costs the DMS neither its valid token nor its tunnels
//! (`refresh`); a tunnel cut mid-transfer fails the stream cleanly, is dialled again, and a
//! write whose answer was lost is not sent twice (`cut`).

mod cut;
mod refresh;

use mocks::Environment;
use mocks::cloud::CloudRequest;
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
            catches: const { &[Catch::by(Fault::AgentRetryWrites, "write-executed-once")] },
            body: |ctx| Box::pin(cut::cut_mid_transfer(ctx)),
        },
    ]
}

/// The refresh grants the cloud received, in order: from its request record.
fn refresh_grants(env: &Environment) -> Vec<CloudRequest> {
    env.cloud()
        .requests()
        .all()
        .into_iter()
        .filter(|r| r.path.starts_with("/oauth/token") && r.body.contains("refresh_token"))
        .collect()
}
