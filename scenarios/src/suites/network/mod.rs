//! Network placement (NET-2, NET-3, NET-4): the agent, as its own process, holds no listening
//! socket by the operating system's account; the DMS reaches only dataminer.services' names on their
//! published addresses, refuses every other destination before a byte leaves, follows no
//! redirect, and through a DMZ proxy sends only TLS, never around it. Judged on the world's
//! records: every lookup, every connection the connector was asked for (strays to
//! unpublished addresses included), every socket the DMS opened and where it went, every
//! CONNECT the proxy received and every byte it relayed.

mod dmz;
mod egress;
pub(crate) mod process;
mod sockets;
mod wire;

use mocks::world::Fault;

use crate::{Catch, Scenario, Suite};

pub(crate) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "network.agent-process-listens-on-nothing",
            suite: Suite::Network,
            title: "The agent as its own process holds no listening socket before, during and after a connected session with recipients' traffic, and connects only to the cloud's translated ports, the WAF and the DMA (read from /proc)",
            requirements: &["NET-2"],
            catches: const {
                &[Catch::by(
                    Fault::AgentListenSocket,
                    "no-listening-socket-on-dms",
                )]
            },
            body: |ctx| Box::pin(process::process_listens_on_nothing(ctx)),
        },
        Scenario {
            id: "network.agent-reaches-only-published-addresses",
            suite: Suite::Network,
            title: "A connected DMS looks up only dataminer.services names and reaches them only on the published addresses; an IP address, another domain or a name resolving elsewhere is refused before a byte leaves",
            requirements: &["NET-3"],
            catches: const {
                &[Catch::by(
                    Fault::AgentAnyDestination,
                    "no-connection-to-unpublished-address",
                )]
            },
            body: |ctx| Box::pin(egress::reaches_only_published_addresses(ctx)),
        },
        Scenario {
            id: "network.agent-refuses-lookalike-names",
            suite: Suite::Network,
            title: "Look-alike names (dataminer.services.evil.example, xdataminer.services) are refused unresolved",
            requirements: &["NET-3"],
            catches: const {
                &[
                    Catch::by(Fault::AgentLookalikeNames, "no-foreign-name-looked-up"),
                    Catch::by(
                        Fault::AgentAnyDestination,
                        "no-connection-to-unpublished-address",
                    ),
                ]
            },
            body: |ctx| Box::pin(egress::refuses_lookalike_names(ctx)),
        },
        Scenario {
            id: "network.agent-follows-no-redirect",
            suite: Suite::Network,
            title: "A redirect from a dataminer.services name to another host is refused: nothing is looked up or sent there",
            requirements: &["NET-3"],
            catches: const {
                &[Catch::by(
                    Fault::AgentFollowRedirects,
                    "no-connection-to-unpublished-address",
                )]
            },
            body: |ctx| Box::pin(egress::follows_no_redirect(ctx)),
        },
        Scenario {
            id: "network.dmz-proxy-relays-only-tls-to-dataminer-services",
            suite: Suite::Network,
            title: "Through an authenticating DMZ proxy the DMS connects, renews and serves recipients: only CONNECTs to dataminer.services on 443, only TLS records relayed, no secret in them, no socket around the proxy",
            requirements: &["NET-4", "NET-3"],
            catches: const {
                &[Catch::by(
                    Fault::AgentPlaintextThroughProxy,
                    "relayed-bytes-are-tls-records",
                )]
            },
            body: |ctx| Box::pin(dmz::relays_only_tls(ctx)),
        },
        Scenario {
            id: "network.proxy-refusal-is-a-clear-error",
            suite: Suite::Network,
            title: "A DMZ proxy that demands credentials the DMS lacks, or refuses the tunnel, gives the Administrator a clear error, and the DMS does not go around it",
            requirements: &["NET-4"],
            catches: const {
                &[Catch::by(
                    Fault::AgentProxyBypass,
                    "no-direct-connection-with-proxy",
                )]
            },
            body: |ctx| Box::pin(dmz::refusal_is_a_clear_error(ctx)),
        },
    ]
}
