//! Live sharing's defences (USER-1..5, WAF-1..3): the share user a share creates, how its
//! password is made and kept, where it can log in and what it can read; the WAF's whitelist and
//! the attack corpus (`fixtures/waf-attacks/`) against every whitelisted call of every fixture
//! dashboard.
//!
//! Expected values come from the spec's figures (`fixtures/spec.json`), the dashboards and the
//! corpus, read by the scenarios' own code ([`calls`]); verdicts come from what the far side
//! kept: the DMA's user table, the requests that reached its gateway channel and the calls it
//! carried out, per session and channel.
//!
//! The scenarios call the WAF's listener directly, as the agent forwards a recipient's request,
//! with the credentials the DMS hands its Cloud Gateway.

mod calls;
mod corpus;
pub(crate) mod setup;
mod users;
mod waf;

use mocks::world::Fault;

use crate::{Catch, Scenario, Suite};

pub(crate) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "users.each-share-gets-one-user-with-a-random-17-character-password",
            suite: Suite::Users,
            title: "Each share creates exactly one cloud user, removed with the share; its password is 17 characters from the CSPRNG",
            requirements: &["USER-1", "USER-2"],
            catches: const {
                &[
                    Catch::by(Fault::DmaPasswordShort, "share-password-length"),
                    Catch::by(Fault::DmaPasswordWeakRng, "share-passwords-distinct"),
                ]
            },
            body: |ctx| Box::pin(users::one_user_per_share(ctx)),
        },
        Scenario {
            id: "users.share-passwords-are-stored-only-as-blowfish-ciphertext",
            suite: Suite::Users,
            title: "The user table holds share passwords only as Blowfish-ECB ciphertext under a key kept apart",
            requirements: &["USER-3"],
            catches: const {
                &[Catch::by(
                    Fault::DmaPasswordPlaintext,
                    "stored-record-holds-no-password-bytes",
                )]
            },
            body: |ctx| Box::pin(users::passwords_sealed(ctx)),
        },
        Scenario {
            id: "users.share-user-logs-in-only-through-the-gateway",
            suite: Suite::Users,
            title: "A share user's login and its connections are refused on the DMA's public API and work through the gateway",
            requirements: &["USER-4"],
            catches: const {
                &[Catch::by(
                    Fault::DmaShareUserDirectLogin,
                    "share-user-served-only-through-the-gateway",
                )]
            },
            body: |ctx| Box::pin(users::gateway_only(ctx)),
        },
        Scenario {
            id: "users.share-user-reads-only-the-dashboard-items",
            suite: Suite::Users,
            title: "On the DMA itself, a share user reads its dashboard's elements and nothing else, and writes nothing",
            requirements: &["USER-5"],
            catches: const {
                &[
                    Catch::by(Fault::DmaShareUserCanWrite, "share-user-writes-nothing"),
                    Catch::by(
                        Fault::DmaShareUserAllElements,
                        "share-user-reads-only-its-items",
                    ),
                ]
            },
            body: |ctx| Box::pin(users::items_only(ctx)),
        },
        Scenario {
            id: "waf.whitelist-is-the-dashboard-calls",
            suite: Suite::Waf,
            title: "The WAF's whitelist for a share is exactly the dashboard's canonical calls, and each of them passes",
            requirements: &["WAF-1", "WAF-3"],
            catches: const { &[Catch::by(Fault::WafRawValues, "dashboard-calls-executed")] },
            body: |ctx| Box::pin(waf::whitelist_is_the_dashboard(ctx)),
        },
        Scenario {
            id: "waf.blocks-every-corpus-attack",
            suite: Suite::Waf,
            title: "Every attack of the corpus, on every whitelisted call of every dashboard, is blocked by the WAF; the legitimate variants pass",
            requirements: &["WAF-2", "WAF-3"],
            catches: const {
                &[
                    Catch::by(Fault::WafAllowEverything, "executed-calls-on-the-whitelist"),
                    Catch::by(Fault::WafIgnoreParams, "executed-calls-on-the-whitelist"),
                    Catch::by(Fault::WafMethodOnly, "executed-calls-on-the-whitelist"),
                    Catch::by(
                        Fault::WafFirstDuplicateKeyWins,
                        "attacks-stopped-at-the-waf",
                    ),
                    Catch::by(
                        Fault::WafCaseInsensitiveMethod,
                        "attacks-stopped-at-the-waf",
                    ),
                    Catch::by(
                        Fault::WafMatchIdsIndependently,
                        "attacks-stopped-at-the-waf",
                    ),
                    Catch::by(Fault::WafRawValues, "legitimate-variants-executed"),
                ]
            },
            body: |ctx| Box::pin(waf::corpus_blocked_by_waf(ctx)),
        },
        Scenario {
            id: "users.dma-holds-the-line-without-the-waf",
            suite: Suite::Users,
            title: "With the WAF letting everything through, the DMA still gives a share user nothing outside its items and no write",
            requirements: &["USER-5"],
            catches: const {
                &[
                    Catch::by(Fault::DmaShareUserCanWrite, "share-user-writes-nothing"),
                    Catch::by(
                        Fault::DmaShareUserAllElements,
                        "share-user-reads-only-its-items",
                    ),
                ]
            },
            body: |ctx| Box::pin(waf::dma_alone(ctx)),
        },
    ]
}
