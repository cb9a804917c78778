//! Sweeps: scenario families that enumerate one dimension of the attack surface from what the
//! environment exposes (the cloud's published route table, every connection the agent makes,
//! every way a token is issued, every single-use secret), so a route, connection or secret added
//! later joins without anyone remembering to. What to attack is listed from the system; what
//! each attempt must get comes from the spec's data and the scenario's own code. Each sweep
//! records its matrix (item × case × outcome) for the reports.

mod auth_fixes;
mod ending_probe;
mod endings;
mod enrol;
mod floods;
mod floods_sessions;
mod floods_spread;
mod lifetime;
mod mid_renewal;
mod newcomers;
mod removals;
mod routes;
mod single_use;
mod tls_judge;
mod tls_paths;

use mocks::world::Fault;

use crate::{Catch, Scenario, Suite};

/// Each sweep, and the dimension it enumerates: what `conform list` shows.
pub const SWEEPS: &[(&str, &str)] = &[
    (
        "tokens.every-route-refuses-every-bad-credential",
        "routes × credentials: every route of every host in the cloud's published table, with forged, tampered, expired, revoked, another DMS's and another organisation's credentials",
    ),
    (
        "tokens.every-issuing-path-gives-one-week",
        "issuing paths × lifetime: every grant the cloud issues tokens by, and a tunnel that outlives its token",
    ),
    (
        "optin.every-ending-reaches-the-cloud",
        "endings × states: a disconnect while connected, while the DMS's hop is black-holed, after a cloud restart, pending across a cloud restart, in the middle of the daily renewal (the cloud renewed, its answer held), and while pairing",
    ),
    (
        "optin.every-removal-ends-the-connection",
        "endings × states, started by the cloud: the organisation's Admin removes the DMS while it is connected, while its hop is black-holed, in the middle of the daily renewal, across a cloud restart, and while it pairs again",
    ),
    (
        "tls.every-agent-connection-refuses-every-bad-server",
        "agent TLS paths × bad servers: device authorization, token poll, refresh, revocation, share announcement, share withdrawal and tunnel, each direct and through the DMZ proxy, against an untrusted issuer, a wrong name, an expired and a not-yet-valid certificate, TLS 1.3 only, TLS 1.0 only and TLS 1.1 only; and plaintext redirects on the connection host",
    ),
    (
        "tokens.unauthenticated-floods-leave-the-cloud-bounded",
        "unauthenticated floods × the cloud's tables: device authorizations with self-made keys, approval-page openings, sign-up code requests and failed sign-ins, in two bursts; one account's sign-ins against its session bound and the sessions' idle and absolute lifetimes",
    ),
    (
        "tokens.floods-spread-over-many-machines-leave-the-grants-bounded",
        "unauthenticated floods × the cloud's tables: device authorizations from more machines than the grant table's bound in all needs, each at its bound per source; a DMS waiting through the flood and one starting after it",
    ),
    (
        "tokens.every-single-use-secret-wins-once",
        "single-use secrets × concurrent redemptions: refresh key, device code, user code, approval ticket, client assertion jti, sign-up code",
    ),
    (
        "sharing.another-organisation-reaches-nothing-keyed-by-id",
        "tenants × keyed objects: another organisation's member and full DMS site on every object the cloud keys by an ID (DMS, share, grant, token family, viewer session, link, account, outbox entry), with colliding, guessed and copied IDs",
    ),
    (
        "sharing.another-organisation-cannot-end-a-share",
        "tenants × keyed objects: another organisation's DMSs announcing, deleting and expiring the victim's copied share ID, judged on the victim's viewer, link and stored row",
    ),
    (
        "sharing.nothing-reaches-another-organisations-dms",
        "relays × ways to name another DMS: the viewer's relay and remote access, with the other organisation's DMS in the path, encoded climbs out of the link, absolute-form targets, the Host header and routing headers",
    ),
    (
        "sharing.a-share-deleted-offline-ends-when-the-dms-is-back",
        "share endings × states: deletion and expiry while connected, with the DMS offline, across a cloud restart and mid-renewal",
    ),
    (
        "sharing.the-clouds-mail-is-no-relay",
        "mail kinds × abuse: every kind of mail the cloud sends, with a foreign DMS's sender names, messages, addresses and call rates",
    ),
    (
        "sharing.every-dms-supplied-field-is-plain",
        "DMS-supplied fields × hostile values: dashboard name, share ID, message and user's name, each with a planted line, a link, markup, an overlong value, a link in fullwidth forms and one with an ideographic full stop; an expiry already past; a DMS ID in another case and a DMS name with a link",
    ),
    (
        "sharing.mail-bounds-count-mailboxes-and-organisations",
        "mail bounds × ways around them: every spelling of one mailbox, twenty DMSs of one organisation, six DMSs' full days",
    ),
    (
        "storage.every-backup-opens-after-key-rotations",
        "backups × key rotations: every backup in the second region after each rotation and re-wrap",
    ),
];

/// The dimension the sweep `scenario` enumerates, if it is one.
pub fn dimension(scenario: &str) -> Option<&'static str> {
    SWEEPS
        .iter()
        .find(|(id, _)| *id == scenario)
        .map(|(_, dimension)| *dimension)
}

pub(crate) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "tokens.every-route-refuses-every-bad-credential",
            suite: Suite::Tokens,
            title: "Every authenticated route of every cloud host, read from the cloud's published route table, refuses the 46 forged and tampered tokens, an expired, a revoked one, another DMS's and another organisation's token or session on its IDs — on the wire",
            requirements: &["TOK-1", "TOK-3", "TOK-5", "OPT-3"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudShareWithdrawIgnoresExp,
                        "bad-credentials-refused-on-every-route",
                    ),
                    Catch::by(
                        Fault::CloudShareAnnounceIgnoresRevocation,
                        "bad-credentials-refused-on-every-route",
                    ),
                    Catch::by(
                        Fault::CloudSkipExp,
                        "bad-credentials-refused-on-every-route",
                    ),
                    Catch::by(
                        Fault::CloudTunnelAcceptsNoToken,
                        "bad-credentials-refused-on-every-route",
                    ),
                    Catch::by(
                        Fault::CloudRemoteAccessListRefusesEveryone,
                        "every-session-route-serves-its-valid-request",
                    ),
                ]
            },
            body: |ctx| Box::pin(routes::every_route_refuses_every_bad_credential(ctx)),
        },
        Scenario {
            id: "tokens.every-issuing-path-gives-one-week",
            suite: Suite::Tokens,
            title: "Every grant the cloud issues a token by (the connect flow, the refresh grant, the agent's own renewals) gives exp − iat of exactly one week, and a tunnel opened on a token does not outlive it",
            requirements: &["TOK-3"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudRefreshTokenEightDays,
                        "every-issued-token-lives-one-week",
                    ),
                    Catch::by(
                        Fault::CloudTokenLifetime30d,
                        "every-issued-token-lives-one-week",
                    ),
                    Catch::by(
                        Fault::CloudTunnelOutlivesToken,
                        "no-tunnel-outlives-its-token",
                    ),
                ]
            },
            body: |ctx| Box::pin(lifetime::every_issuing_path_gives_one_week(ctx)),
        },
        Scenario {
            id: "tokens.every-single-use-secret-wins-once",
            suite: Suite::Tokens,
            title: "Each single-use secret (refresh key, device code, approval ticket, client assertion jti, sign-up code) redeemed by many at once, released together: exactly one wins, the others get the spec's error",
            requirements: &["TOK-4", "FLOW-3"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudDeviceCodeCheckThenSpend,
                        "exactly-one-concurrent-redemption-wins",
                    ),
                    Catch::by(
                        Fault::CloudSignupCodeCheckThenSpend,
                        "exactly-one-concurrent-redemption-wins",
                    ),
                    Catch::by(
                        Fault::CloudRefreshReusable,
                        "exactly-one-concurrent-redemption-wins",
                    ),
                    Catch::by(
                        Fault::CloudAssertionReplayable,
                        "exactly-one-concurrent-redemption-wins",
                    ),
                    Catch::by(
                        Fault::CloudDeviceCodeReusable,
                        "exactly-one-concurrent-redemption-wins",
                    ),
                ]
            },
            body: |ctx| Box::pin(single_use::every_single_use_secret_wins_once(ctx)),
        },
        Scenario {
            id: "optin.every-ending-reaches-the-cloud",
            suite: Suite::Optin,
            title: "A disconnect in every state (connected, the DMS's hop black-holed, after a cloud restart, pending across a cloud restart, in the middle of the daily renewal, while pairing) ends the token on the cloud as soon as the two can talk again, and until then the DMA tells the Administrator the revocation is pending",
            requirements: &["OPT-3"],
            catches: const {
                &[
                    Catch::by(
                        Fault::AgentRevokeOnce,
                        "old-token-refused-once-the-hop-heals",
                    ),
                    Catch::by(
                        Fault::AgentHidesPendingRevocation,
                        "administrator-told-revocation-pending",
                    ),
                    Catch::by(
                        Fault::CloudNoRevokeOnDisconnect,
                        "old-token-refused-once-the-hop-heals",
                    ),
                    Catch::by(
                        Fault::CloudRevokeIgnoresSupersededToken,
                        "old-token-refused-once-the-hop-heals",
                    ),
                ]
            },
            body: |ctx| Box::pin(endings::every_ending_reaches_the_cloud(ctx)),
        },
        Scenario {
            id: "optin.every-removal-ends-the-connection",
            suite: Suite::Optin,
            title: "The organisation's Admin removing the DMS on dataminer.services, in every state (connected, the DMS's hop black-holed, mid-renewal, across a cloud restart, pairing again), ends it: the cloud refuses its token and refresh key, no tunnel of it stays open, a pairing DMS gets no token, and the DMA tells its Administrator the connection ended; neither a Member nor another organisation can remove it",
            requirements: &["OPT-3", "TOK-4", "FLOW-1"],
            catches: const {
                &[
                    Catch::by(Fault::CloudRevokeKeepsTunnels, "removed-dms-tunnels-closed"),
                    Catch::by(
                        Fault::CloudRemovalLeavesConnectFlows,
                        "no-token-after-a-removal-while-pairing",
                    ),
                    Catch::by(Fault::CloudRemovalKeepsShares, "removed-dms-shares-end"),
                    Catch::by(
                        Fault::AgentHidesACloudEndedConnection,
                        "administrator-told-connection-ended",
                    ),
                    Catch::by(
                        Fault::CloudIgnoreSub,
                        "only-the-organisations-owner-or-admin-removes",
                    ),
                ]
            },
            body: |ctx| Box::pin(removals::every_removal_ends_the_connection(ctx)),
        },
        Scenario {
            id: "tls.every-agent-connection-refuses-every-bad-server",
            suite: Suite::Tls,
            title: "Every connection the agent makes (device authorization, token poll, refresh, revocation, share announcement and withdrawal, tunnel), directly and through the DMZ proxy, meets, mid-life, a cloud with a bad certificate, TLS 1.3 only, or only TLS 1.0/1.1: refused before any request, never falling back; a plaintext redirect on the connection host is not followed",
            requirements: &["TLS-2", "TLS-3", "NET-1"],
            catches: const {
                &[
                    Catch::by(
                        Fault::AgentTunnelSkipsHostnameCheck,
                        "agent-refuses-every-bad-server-on-every-path",
                    ),
                    Catch::by(
                        Fault::AgentTunnelAcceptsExpiredCert,
                        "agent-refuses-every-bad-server-on-every-path",
                    ),
                    Catch::by(
                        Fault::AgentAcceptAnyCert,
                        "agent-refuses-every-bad-server-on-every-path",
                    ),
                    Catch::by(
                        Fault::AgentProxiedTlsTrustsTheProxy,
                        "agent-refuses-every-bad-server-on-every-path",
                    ),
                    Catch::by(
                        Fault::AgentFollowsDowngradeOnItsHost,
                        "agent-refuses-plaintext-redirect",
                    ),
                ]
            },
            body: |ctx| {
                Box::pin(tls_paths::every_agent_connection_refuses_every_bad_server(
                    ctx,
                ))
            },
        },
        Scenario {
            id: "tokens.unauthenticated-floods-leave-the-cloud-bounded",
            suite: Suite::Tokens,
            title: "Two bursts of device authorizations with self-made keys, approval-page openings, sign-up code requests and failed sign-ins from another machine: the second grows no table of the cloud's, legitimate clients are served, and expired grants, tickets and sign-ups are removed; one account signing in again and again holds a bounded number of sessions, and sessions end by their idle and absolute lifetimes",
            requirements: &["DOS-1"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudNoPerSourceLimit,
                        "tables-stay-bounded-under-a-burst",
                    ),
                    Catch::by(
                        Fault::CloudDeviceGrantsNeverSwept,
                        "expired-unauthenticated-state-removed",
                    ),
                    Catch::by(
                        Fault::CloudSessionsPerAccountUnbounded,
                        "sessions-bounded-per-account",
                    ),
                    Catch::by(
                        Fault::CloudSessionsNeverExpire,
                        "expired-sessions-refused-and-removed",
                    ),
                ]
            },
            body: |ctx| Box::pin(floods::unauthenticated_floods_leave_the_cloud_bounded(ctx)),
        },
        Scenario {
            id: "tokens.floods-spread-over-many-machines-leave-the-grants-bounded",
            suite: Suite::Tokens,
            title: "Device authorizations with self-made keys from more machines than the cloud's bound in all needs, each filling what one source may hold: the cloud holds no more grants than that bound, a DMS that waited for approval through the flood gets its token, and so does one that starts with the table full",
            requirements: &["DOS-1"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudDeviceGrantsBoundedPerSourceOnly,
                        "device-grants-bounded-in-all",
                    ),
                    Catch::by(
                        Fault::CloudDeviceGrantsPushOutTheOldest,
                        "a-waiting-dms-is-served-through-a-spread-flood",
                    ),
                    Catch::by(
                        Fault::CloudDeviceGrantsRefusedWhenFull,
                        "a-new-dms-is-served-after-a-spread-flood",
                    ),
                ]
            },
            body: |ctx| {
                Box::pin(
                    floods_spread::floods_spread_over_many_machines_leave_the_grants_bounded(ctx),
                )
            },
        },
        Scenario {
            id: "users.newcomers-are-served-through-the-hop",
            suite: Suite::Users,
            title: "Through the recipients' hop, as `env up` runs it, a flooder on one machine fills its pending sign-ups and is refused for guessing an account's password: a newcomer on another machine still gets a code mailed and creates the account, and the account's owner signs in from theirs; the cloud recorded each client's own address",
            requirements: &["DOS-1", "SHARE-2"],
            catches: const {
                &[Catch::by(
                    Fault::NetHopHidesClientAddress,
                    "newcomer-served-through-the-hop",
                )]
            },
            body: |ctx| Box::pin(newcomers::newcomers_are_served_through_the_hop(ctx)),
        },
        Scenario {
            id: "users.another-source-cannot-use-up-an-addresss-sign-up-mails",
            suite: Suite::Users,
            title: "Someone asking, from one machine, as many sign-up codes for a newcomer's address as it may be mailed in a day is refused past its source's share: the newcomer, from their own machine, still gets a code mailed and creates the account; the refusal is the same for an address that has an account",
            requirements: &["DOS-1", "MAIL-2", "SHARE-2"],
            catches: const {
                &[Catch::by(
                    Fault::CloudSignupMailsBoundedPerAddressOnly,
                    "newcomer-gets-a-code-after-another-sources-requests",
                )]
            },
            body: |ctx| {
                Box::pin(newcomers::another_source_cannot_use_up_an_addresss_sign_up_mails(ctx))
            },
        },
        Scenario {
            id: "tokens.bearer-scheme-is-case-insensitive",
            suite: Suite::Tokens,
            title: "The DMS's token is taken under `Authorization: bearer`, `BEARER` or any casing of the scheme (RFC 7235 §2.1), and not under another scheme",
            requirements: &["TOK-1"],
            catches: const {
                &[Catch::by(
                    Fault::CloudBearerSchemeCaseSensitive,
                    "bearer-scheme-case-insensitive",
                )]
            },
            body: |ctx| Box::pin(auth_fixes::bearer_scheme_is_case_insensitive(ctx)),
        },
        Scenario {
            id: "users.sign-up-tells-no-one-who-has-an-account",
            suite: Suite::Users,
            title: "A sign-up code asked for an address that has an account is answered as one for a new address, and the account's owner is mailed instead: the page tells no one which addresses have accounts",
            requirements: &["SHARE-2", "TEN-1"],
            catches: const {
                &[Catch::by(
                    Fault::CloudSignupTellsExistingAccounts,
                    "sign-up-answer-same-for-existing-address",
                )]
            },
            body: |ctx| Box::pin(auth_fixes::sign_up_tells_no_one_who_has_an_account(ctx)),
        },
        Scenario {
            id: "users.another-sign-up-code-voids-none",
            suite: Suite::Users,
            title: "Someone asking a sign-up code for a newcomer's address after the newcomer did leaves the newcomer's code working",
            requirements: &["SHARE-2", "DOS-1"],
            catches: const {
                &[Catch::by(
                    Fault::CloudSignupNewCodeVoidsTheLast,
                    "newcomers-code-works-after-another-request",
                )]
            },
            body: |ctx| Box::pin(auth_fixes::another_code_voids_none(ctx)),
        },
        Scenario {
            id: "users.sign-out-ends-the-session-on-the-cloud",
            suite: Suite::Users,
            title: "A sign-out on either host ends the session on the cloud: the cookie, copied before, is refused afterwards, and a shared dashboard left open in that browser is refused too, even after the same account signs in again",
            requirements: &["SHARE-2", "FLOW-1"],
            catches: const {
                &[
                    Catch::by(Fault::CloudSignOutKeepsSession, "signed-out-cookie-refused"),
                    Catch::by(
                        Fault::CloudSignOutKeepsViewers,
                        "sign-out-ends-the-viewers-it-opened",
                    ),
                ]
            },
            body: |ctx| Box::pin(auth_fixes::sign_out_ends_the_session_on_the_cloud(ctx)),
        },
    ]
}
