//! TLS 1.2 only, on every cloud endpoint and in the agent (TLS-1..4), and no plaintext anywhere
//! (NET-1). The cloud side is judged by a probe that writes its own ClientHellos; the agent side
//! by the ClientHellos the cloud recorded and by what reached the cloud after them.

mod agent_side;
mod cloud_side;

use mocks::world::Fault;

use crate::{Catch, Scenario, Suite};

pub(crate) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "tls.cloud-endpoints-speak-only-tls12",
            suite: Suite::Tls,
            title: "Every cloud endpoint completes TLS 1.2 and refuses TLS 1.3, 1.1, 1.0 and SSL 3.0",
            requirements: &["TLS-1"],
            catches: const {
                &[
                    Catch::by(Fault::CloudAcceptTls13, "cloud-speaks-only-tls12"),
                    Catch::by(Fault::CloudLegacyTls, "cloud-speaks-only-tls12"),
                ]
            },
            body: |ctx| Box::pin(cloud_side::only_tls12(ctx)),
        },
        Scenario {
            id: "tls.cloud-suites-are-forward-secret-aead",
            suite: Suite::Tls,
            title: "Every TLS 1.2 suite a cloud endpoint will choose is ECDHE with AES-GCM or ChaCha20-Poly1305",
            requirements: &["TLS-4"],
            catches: const {
                &[Catch::by(
                    Fault::CloudLegacyTls,
                    "cloud-suites-are-forward-secret-aead",
                )]
            },
            body: |ctx| Box::pin(cloud_side::forward_secret_aead_only(ctx)),
        },
        Scenario {
            id: "tls.cloud-refuses-plaintext",
            suite: Suite::Tls,
            title: "Plaintext HTTP and ws:// to the cloud's ports get no HTTP answer",
            requirements: &["NET-1"],
            catches: const {
                &[Catch::by(
                    Fault::CloudPlaintextListener,
                    "cloud-answers-no-plaintext",
                )]
            },
            body: |ctx| Box::pin(cloud_side::no_plaintext(ctx)),
        },
        Scenario {
            id: "tls.agent-offers-only-tls12",
            suite: Suite::Tls,
            title: "Every ClientHello the agent sends through a whole connect flow offers TLS 1.2 alone",
            requirements: &["TLS-2"],
            catches: const { &[Catch::by(Fault::AgentOfferTls13, "agent-offers-only-tls12")] },
            body: |ctx| Box::pin(agent_side::offers_only_tls12(ctx)),
        },
        Scenario {
            id: "tls.agent-gives-up-on-a-tls13-only-server",
            suite: Suite::Tls,
            title: "Against a cloud that speaks only TLS 1.3 the agent gives up, without falling back, and sends nothing more",
            requirements: &["TLS-2"],
            catches: const { &[Catch::by(Fault::AgentOfferTls13, "agent-offers-only-tls12")] },
            body: |ctx| Box::pin(agent_side::gives_up_on_tls13_only(ctx)),
        },
        Scenario {
            id: "tls.agent-refuses-an-untrusted-issuer",
            suite: Suite::Tls,
            title: "The agent refuses a cloud certificate from a CA it does not trust, before any application byte",
            requirements: &["TLS-3"],
            catches: const {
                &[Catch::by(
                    Fault::AgentAcceptAnyCert,
                    "agent-sends-nothing-to-an-unsafe-server",
                )]
            },
            body: |ctx| Box::pin(agent_side::refuses_untrusted_issuer(ctx)),
        },
        Scenario {
            id: "tls.agent-refuses-a-certificate-for-another-host",
            suite: Suite::Tls,
            title: "The agent refuses a trusted certificate that names another host",
            requirements: &["TLS-3"],
            catches: const {
                &[
                    Catch::by(
                        Fault::AgentAcceptAnyCert,
                        "agent-sends-nothing-to-an-unsafe-server",
                    ),
                    Catch::by(
                        Fault::AgentSkipHostnameCheck,
                        "agent-sends-nothing-to-an-unsafe-server",
                    ),
                ]
            },
            body: |ctx| Box::pin(agent_side::refuses_wrong_host(ctx)),
        },
        Scenario {
            id: "tls.agent-refuses-an-expired-certificate",
            suite: Suite::Tls,
            title: "The agent refuses a trusted certificate that has expired",
            requirements: &["TLS-3"],
            catches: const {
                &[Catch::by(
                    Fault::AgentAcceptAnyCert,
                    "agent-sends-nothing-to-an-unsafe-server",
                )]
            },
            body: |ctx| Box::pin(agent_side::refuses_expired(ctx)),
        },
        Scenario {
            id: "tls.agent-refuses-a-not-yet-valid-certificate",
            suite: Suite::Tls,
            title: "The agent refuses a trusted certificate that is not valid yet",
            requirements: &["TLS-3"],
            catches: const {
                &[Catch::by(
                    Fault::AgentAcceptAnyCert,
                    "agent-sends-nothing-to-an-unsafe-server",
                )]
            },
            body: |ctx| Box::pin(agent_side::refuses_not_yet_valid(ctx)),
        },
        Scenario {
            id: "tls.agent-refuses-plaintext-urls",
            suite: Suite::Tls,
            title: "An agent configured with an http:// or ws:// cloud URL refuses to start, with a clear error",
            requirements: &["NET-1"],
            catches: const {
                &[Catch::by(
                    Fault::AgentAllowPlaintextUrls,
                    "agent-refuses-a-plaintext-url",
                )]
            },
            body: |ctx| Box::pin(agent_side::refuses_plaintext_urls(ctx)),
        },
    ]
}
