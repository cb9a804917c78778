//! The connect flow and the token life cycle (FLOW-1..3, TOK-1..5): grants bound to the key
//! of the DMS that asked, approved on a page that shows what is approved; HS256 tokens that
//! live one week, delivered server to server, renewed daily with single-use refresh keys,
//! refused in every forged, tampered, expired or foreign form, signed with a secret that never
//! leaves the cloud.

mod approval;
mod binding;
mod codes;
mod flow;
pub(crate) mod leaks;
mod renewal;
mod roles;
mod secret;
pub(crate) mod validation;

use mocks::world::Fault;

use crate::{Catch, Scenario, Suite};

pub(crate) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "tokens.flow-needs-both-logins",
            suite: Suite::Tokens,
            title: "No token without the Administrator's DMS login and a dataminer.services login: each alone, or failed, gives none",
            requirements: &["FLOW-1"],
            catches: const {
                &[Catch::by(
                    Fault::CloudApproveWithoutLogin,
                    "no-token-delivered-without-cloud-login",
                )]
            },
            body: |ctx| Box::pin(flow::needs_both_logins(ctx)),
        },
        Scenario {
            id: "tokens.only-an-owner-or-admin-approves",
            suite: Suite::Tokens,
            title: "A Member of the DMS's organisation, and an Admin demoted to Member while signed in, approve nothing: the DMS's poll gets no token and the approval is refused; the Owner and an Admin connect it",
            requirements: &["FLOW-1"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudApprovalIgnoresRole,
                        "member-approval-gives-dms-nothing",
                    ),
                    Catch::by(
                        Fault::CloudRoleCachedInSession,
                        "demoted-admin-approval-gives-dms-nothing",
                    ),
                ]
            },
            body: |ctx| Box::pin(roles::only_an_owner_or_admin_approves(ctx)),
        },
        Scenario {
            id: "tokens.the-last-owner-stays",
            suite: Suite::Tokens,
            title: "The organisation's only Owner cannot give up the role (no one could be made Owner again); beside a second Owner, either may step down",
            requirements: &["FLOW-1"],
            catches: const {
                &[Catch::by(
                    Fault::CloudLastOwnerCanLeave,
                    "only-owner-cannot-step-down",
                )]
            },
            body: |ctx| Box::pin(roles::the_last_owner_stays(ctx)),
        },
        Scenario {
            id: "tokens.token-never-reaches-the-browser",
            suite: Suite::Tokens,
            title: "The token and refresh key travel only on the agent's own connection; the Administrator sees neither, in any hop of the browser's redirects or any answer of the DMS",
            requirements: &["FLOW-2"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudTokenViaBrowser,
                        "credentials-never-shown-to-administrator",
                    ),
                    Catch::by(
                        Fault::CloudTokenInBrowserCookie,
                        "credentials-never-shown-to-administrator",
                    ),
                ]
            },
            body: |ctx| Box::pin(flow::token_never_reaches_the_browser(ctx)),
        },
        Scenario {
            id: "tokens.a-claimed-dms-id-gets-no-token",
            suite: Suite::Tokens,
            title: "A cloud account of the DMS's organisation or another, naming a registered DMS's ID with a key of its own, gets no token that acts as that DMS",
            requirements: &["FLOW-3", "FLOW-1"],
            catches: const {
                &[Catch::by(
                    Fault::CloudDeviceFlowTrustsDmsId,
                    "claimed-dms-id-gets-no-token",
                )]
            },
            body: |ctx| Box::pin(binding::a_claimed_dms_id_gets_no_token(ctx)),
        },
        Scenario {
            id: "tokens.replayed-assertions-get-no-token",
            suite: Suite::Tokens,
            title: "The DMS's registration and its signed poll, replayed from a request log by an account of its organisation, give no token; nor once their assertions expired",
            requirements: &["FLOW-3"],
            catches: const {
                &[Catch::by(
                    Fault::CloudAssertionReplayable,
                    "replayed-assertions-get-no-token",
                )]
            },
            body: |ctx| Box::pin(binding::replayed_assertions_get_no_token(ctx)),
        },
        Scenario {
            id: "tokens.a-stolen-device-code-redeems-nothing",
            suite: Suite::Tokens,
            title: "A device code the DMS started and the Administrator approved gives a thief nothing: without client authentication, under the DMS's ID with another key, or as another DMS; the DMS then gets its token",
            requirements: &["FLOW-3"],
            catches: const {
                &[Catch::by(
                    Fault::CloudDeviceCodeIsBearer,
                    "stolen-device-code-redeems-nothing",
                )]
            },
            body: |ctx| Box::pin(binding::a_stolen_device_code_redeems_nothing(ctx)),
        },
        Scenario {
            id: "tokens.approval-page-shows-what-is-approved",
            suite: Suite::Tokens,
            title: "The verification URI is the connection host's page; it names the DMS, its organisation and where the request came from, and a look-alike's request approved without typing its DMS ID gets nothing",
            requirements: &["FLOW-3"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudApprovalPageHidesDms,
                        "approval-page-names-dms-org-origin",
                    ),
                    Catch::by(
                        Fault::CloudApproveWithoutConfirmation,
                        "unconfirmed-approval-gives-no-token",
                    ),
                ]
            },
            body: |ctx| Box::pin(approval::the_page_shows_what_is_approved(ctx)),
        },
        Scenario {
            id: "tokens.another-organization-cannot-approve",
            suite: Suite::Tokens,
            title: "A user code approved by an account of another organisation gives the DMS nothing; its own organisation's approval connects it",
            requirements: &["FLOW-3"],
            catches: const {
                &[Catch::by(
                    Fault::CloudApprovalAnyOrganization,
                    "foreign-approval-gives-dms-nothing",
                )]
            },
            body: |ctx| Box::pin(approval::another_organization_cannot_approve(ctx)),
        },
        Scenario {
            id: "tokens.user-code-guessing-is-throttled",
            suite: Suite::Tokens,
            title: "An account that types wrong user codes is stopped after the stated number, and then not even the right code shows it the request",
            requirements: &["FLOW-3"],
            catches: const {
                &[Catch::by(
                    Fault::CloudUserCodeGuessingUnlimited,
                    "user-code-guesses-throttled",
                )]
            },
            body: |ctx| Box::pin(approval::user_code_guessing_is_throttled(ctx)),
        },
        Scenario {
            id: "tokens.a-device-code-works-once",
            suite: Suite::Tokens,
            title: "An approved device code redeemed twice gives one token family: the second redemption is invalid_grant",
            requirements: &["FLOW-3"],
            catches: const {
                &[Catch::by(
                    Fault::CloudDeviceCodeReusable,
                    "device-code-works-once",
                )]
            },
            body: |ctx| Box::pin(codes::a_device_code_works_once(ctx)),
        },
        Scenario {
            id: "tokens.polling-too-fast-slows-down",
            suite: Suite::Tokens,
            title: "A poll sooner than the interval is answered slow_down, and a poll after the grown interval is answered again",
            requirements: &["FLOW-3"],
            catches: const {
                &[Catch::by(
                    Fault::CloudNoSlowDown,
                    "early-poll-gets-slow-down",
                )]
            },
            body: |ctx| Box::pin(codes::polling_too_fast_slows_down(ctx)),
        },
        Scenario {
            id: "tokens.a-device-code-expires",
            suite: Suite::Tokens,
            title: "Once its announced expires_in has passed, a device code cannot be approved and redeems nothing (expired_token)",
            requirements: &["FLOW-3"],
            catches: const {
                &[Catch::by(
                    Fault::CloudDeviceCodeNeverExpires,
                    "expired-device-code-redeems-nothing",
                )]
            },
            body: |ctx| Box::pin(codes::a_device_code_expires(ctx)),
        },
        Scenario {
            id: "tokens.disconnect-revokes-every-holder",
            suite: Suite::Tokens,
            title: "A DMS-side disconnect revokes every token and refresh key of the DMS, whoever holds them: one a thief refreshed from the DMS's family, and a family of the thief's own",
            requirements: &["OPT-3", "TOK-4", "FLOW-3"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudDisconnectRevokesOneFamily,
                        "other-family-refused-after-disconnect",
                    ),
                    Catch::by(
                        Fault::CloudNoRevokeOnDisconnect,
                        "refreshed-token-refused-after-disconnect",
                    ),
                ]
            },
            body: |ctx| Box::pin(binding::disconnect_revokes_every_holder(ctx)),
        },
        Scenario {
            id: "tokens.claims-and-lifetime-as-specified",
            suite: Suite::Tokens,
            title: "The DMS's token is HS256 with the vault key, names its DMS, and lives exactly one week",
            requirements: &["TOK-1", "TOK-3"],
            catches: const {
                &[Catch::by(
                    Fault::CloudTokenLifetime30d,
                    "token-lives-one-week",
                )]
            },
            body: |ctx| Box::pin(validation::claims_and_lifetime(ctx)),
        },
        Scenario {
            id: "tokens.forged-and-tampered-tokens-are-refused",
            suite: Suite::Tokens,
            title: "alg none, other algorithms, key confusion, header injection, tampered or mistyped claims: all refused on API and tunnel",
            requirements: &["TOK-1"],
            catches: const {
                &[
                    Catch::by(Fault::CloudAcceptAlgNone, "forged-tokens-refused"),
                    Catch::by(Fault::CloudAcceptAnyHmac, "forged-tokens-refused"),
                ]
            },
            body: |ctx| Box::pin(validation::forged_and_tampered_refused(ctx)),
        },
        Scenario {
            id: "tokens.expired-token-is-refused",
            suite: Suite::Tokens,
            title: "A token is accepted up to one week plus the stated skew, and refused a second later",
            requirements: &["TOK-3"],
            catches: const {
                &[
                    Catch::by(Fault::CloudSkipExp, "refused-past-lifetime-on-api"),
                    Catch::by(Fault::CloudTokenLifetime30d, "refused-past-lifetime-on-api"),
                ]
            },
            body: |ctx| Box::pin(validation::expired_token_refused(ctx)),
        },
        Scenario {
            id: "tokens.a-token-opens-only-its-own-dms",
            suite: Suite::Tokens,
            title: "DMS A's token opens nothing of DMS B, and the other way round: not its registration on the API, not a tunnel registered as B",
            requirements: &["TOK-5"],
            catches: const { &[Catch::by(Fault::CloudIgnoreSub, "token-opens-another-dms")] },
            body: |ctx| Box::pin(validation::token_opens_only_its_own_dms(ctx)),
        },
        Scenario {
            id: "tokens.four-weeks-without-a-gap",
            suite: Suite::Tokens,
            title: "Four simulated weeks connected: the DMS renews daily and its tunnel is never down",
            requirements: &["TOK-4"],
            catches: const {
                &[Catch::by(
                    Fault::AgentNoAutoRefresh,
                    "renewed-daily-at-the-cloud",
                )]
            },
            body: |ctx| Box::pin(renewal::four_weeks_without_a_gap(ctx)),
        },
        Scenario {
            id: "tokens.refresh-key-works-once",
            suite: Suite::Tokens,
            title: "A replayed refresh key is refused and revokes the whole family: token, refresh key, tunnel",
            requirements: &["TOK-4"],
            catches: const {
                &[
                    Catch::by(Fault::CloudRefreshReusable, "replayed-refresh-key-refused"),
                    Catch::by(
                        Fault::CloudNoFamilyRevocation,
                        "family-token-revoked-after-replay",
                    ),
                ]
            },
            body: |ctx| Box::pin(renewal::refresh_key_works_once(ctx)),
        },
        Scenario {
            id: "tokens.renewal-rides-out-cloud-outages",
            suite: Suite::Tokens,
            title: "While the cloud fails or is down, the DMS retries with backoff and keeps its valid token and tunnel",
            requirements: &["TOK-4"],
            catches: const {
                &[Catch::by(
                    Fault::AgentNoAutoRefresh,
                    "refresh-retried-during-500s",
                )]
            },
            body: |ctx| Box::pin(renewal::rides_out_outages(ctx)),
        },
        Scenario {
            id: "tokens.secret-never-leaves-the-cloud",
            suite: Suite::Tokens,
            title: "The signing secret is in no request or answer (heads included), no decrypted connection of either side (tunnels unmasked), no log or record of any component and nothing the DMS stores, in any encoding; the vault serves only the token service's credential, not a caller that claims it, and names one reader",
            requirements: &["TOK-2"],
            catches: const {
                &[
                    Catch::by(Fault::CloudSecretInLogs, "signing-secret-appears-nowhere"),
                    Catch::by(
                        Fault::CloudFrontEndReadsSigningKey,
                        "signing-key-read-by-one-identity",
                    ),
                ]
            },
            body: |ctx| Box::pin(secret::never_leaves_the_cloud(ctx)),
        },
    ]
}
