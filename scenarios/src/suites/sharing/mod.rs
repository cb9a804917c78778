//! Live sharing's defences (USER-1..5, WAF-1..3): the share user a share creates, how its
//! password is made and kept, where it can log in and what it can read; the WAF's whitelist and
//! the attack corpus (`fixtures/waf-attacks/`) against every whitelisted call of every fixture
//! dashboard, with the layer (WAF or DMA) that stopped each attack.
//!
//! The tunnel's stream protocol is not built yet, so a "shared-dashboard connection" is what the
//! agent would forward: the scenarios call the WAF's listener directly, as the agent would, with
//! the credentials the DMS hands its Cloud Gateway.

mod corpus;
mod setup;
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
                    Catch::by(Fault::DmaPasswordShort, "?"),
                    Catch::by(Fault::DmaPasswordWeakRng, "?"),
                ]
            },
            body: |ctx| Box::pin(users::one_user_per_share(ctx)),
        },
        Scenario {
            id: "users.share-passwords-are-stored-only-as-blowfish-ciphertext",
            suite: Suite::Users,
            title: "The user table holds share passwords only as Blowfish-ECB ciphertext under a key kept apart",
            requirements: &["USER-3"],
            catches: const { &[Catch::by(Fault::DmaPasswordPlaintext, "?")] },
            body: |ctx| Box::pin(users::passwords_sealed(ctx)),
        },
        Scenario {
            id: "users.share-user-logs-in-only-through-the-gateway",
            suite: Suite::Users,
            title: "A share user's login and its connections are refused on the DMA's public API and work through the gateway",
            requirements: &["USER-4"],
            catches: const { &[Catch::by(Fault::DmaShareUserDirectLogin, "?")] },
            body: |ctx| Box::pin(users::gateway_only(ctx)),
        },
        Scenario {
            id: "users.share-user-reads-only-the-dashboard-items",
            suite: Suite::Users,
            title: "On the DMA itself, a share user reads its dashboard's elements and nothing else, and writes nothing",
            requirements: &["USER-5"],
            catches: const {
                &[
                    Catch::by(Fault::DmaShareUserCanWrite, "?"),
                    Catch::by(Fault::DmaShareUserAllElements, "?"),
                ]
            },
            body: |ctx| Box::pin(users::items_only(ctx)),
        },
        Scenario {
            id: "waf.whitelist-is-the-dashboard-calls",
            suite: Suite::Waf,
            title: "The WAF's whitelist for a share is exactly the dashboard's canonical calls, and each of them passes",
            requirements: &["WAF-1", "WAF-3"],
            catches: const { &[Catch::by(Fault::WafRawValues, "?")] },
            body: |ctx| Box::pin(waf::whitelist_is_the_dashboard(ctx)),
        },
        Scenario {
            id: "waf.blocks-every-corpus-attack",
            suite: Suite::Waf,
            title: "Every attack of the corpus, on every whitelisted call of every dashboard, is blocked by the WAF; the legitimate variants pass",
            requirements: &["WAF-2", "WAF-3"],
            catches: const {
                &[
                    Catch::by(Fault::WafAllowEverything, "?"),
                    Catch::by(Fault::WafIgnoreParams, "?"),
                    Catch::by(Fault::WafMethodOnly, "?"),
                    Catch::by(Fault::WafFirstDuplicateKeyWins, "?"),
                    Catch::by(Fault::WafCaseInsensitiveMethod, "?"),
                    Catch::by(Fault::WafMatchIdsIndependently, "?"),
                    Catch::by(Fault::WafRawValues, "?"),
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
                    Catch::by(Fault::DmaShareUserCanWrite, "?"),
                    Catch::by(Fault::DmaShareUserAllElements, "?"),
                ]
            },
            body: |ctx| Box::pin(waf::dma_alone(ctx)),
        },
    ]
}
