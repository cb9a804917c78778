//! Live sharing's defences (USER-1..5, WAF-1..4): the share user a share creates, how its
//! password is made and kept, where it can log in and what it can read; the WAF's whitelist and
//! the attack corpus (`fixtures/waf-attacks/`) against every whitelisted call of every fixture
//! dashboard.
//!
//! Expected values come from the spec's figures (`fixtures/spec.json`), the dashboards and the
//! corpus, read by the scenarios' own code ([`calls`]); verdicts come from what the far side
//! kept: the DMA's user table, the requests that reached its gateway channel and the calls it
//! carried out, per session and channel.
//!
//! The WAF's whitelist, its corpus and what it cannot read are sent by the signed-in recipient
//! through their viewer (the cloud's relay, the tunnel, the Cloud Gateway: [`recipient_path`]);
//! what the WAF cannot tie to a live share's viewer is sent from outside too ([`untied`]: a
//! remote-access account's streams, which carry no viewer, and share sessions named in bodies).
//! The sign-in limit ([`fail_closed`]) and the users scenarios call the WAF's listener
//! directly, as the agent forwards, with the credentials and the gateway key the DMS hands its
//! Cloud Gateway; USER-4's scenario also takes the real path and every other way in. The sharing scenarios take the recipient's real path:
//! the mail, the link, the account, the DMS's app, and through the tunnel, the agent and the WAF
//! to the DMA ([`live`]), in a real browser too ([`browser`]).

mod answer_bound;
mod attacks;
mod browser;
mod browser_launch;
mod browser_page;
mod calls;
mod cloud_viewers;
mod corpus;
mod ending;
mod eviction;
mod fail_closed;
mod gateway;
mod keyless;
pub(crate) mod live;
mod log_out_retry;
mod oversized;
mod recipient_path;
mod recipients;
mod relay_bound;
mod reopening;
pub(crate) mod setup;
mod tossing;
mod untied;
mod users;
mod viewer_frame;
mod viewer_urls;
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
            title: "A share user's login and its connections are refused on the DMA's public API and on the gateway channel without the Cloud Gateway's key, and work through the Cloud Gateway",
            requirements: &["USER-4"],
            catches: const {
                &[
                    Catch::by(
                        Fault::DmaShareUserDirectLogin,
                        "share-user-served-only-through-the-gateway",
                    ),
                    Catch::by(
                        Fault::DmaGatewayOpenToAll,
                        "gateway-channel-serves-only-the-cloud-gateway",
                    ),
                ]
            },
            body: |ctx| Box::pin(gateway::gateway_only(ctx)),
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
            title: "The WAF's whitelist for a share is exactly the dashboard's canonical calls, and each of them, sent as the app sends it through the recipient's viewer, is carried out",
            requirements: &["WAF-1", "WAF-3"],
            catches: const { &[Catch::by(Fault::WafRawValues, "dashboard-calls-executed")] },
            body: |ctx| Box::pin(waf::whitelist_is_the_dashboard(ctx)),
        },
        Scenario {
            id: "waf.blocks-every-corpus-attack",
            suite: Suite::Waf,
            title: "Every attack of the corpus, on every whitelisted call of every dashboard, sent by the signed-in recipient through their viewer (cloud relay, tunnel, Cloud Gateway), is blocked by the WAF, whatever header the recipient adds; the legitimate variants pass",
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
                    Catch::by(
                        Fault::WafTrustsForwardedFor,
                        "executed-calls-on-the-whitelist",
                    ),
                    Catch::by(
                        Fault::CloudRelayKeepsTrustHeaders,
                        "executed-calls-on-the-whitelist",
                    ),
                ]
            },
            body: |ctx| Box::pin(waf::corpus_blocked_by_waf(ctx)),
        },
        Scenario {
            id: "sharing.each-address-gets-one-mail-from-dataminer-services-with-its-own-link",
            suite: Suite::Sharing,
            title: "Sharing a dashboard with addresses through the DMA sends one mail per address, from the dataminer.services domain, each with its own link of at least 128 random bits; a user without the sharing permission shares nothing",
            requirements: &["SHARE-1", "MAIL-1"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudMailFromOtherDomain,
                        "mail-from-the-dataminer-services-domain",
                    ),
                    Catch::by(
                        Fault::CloudGuessableShareToken,
                        "share-token-carries-128-random-bits",
                    ),
                ]
            },
            body: |ctx| Box::pin(recipients::each_address_gets_one_mail(ctx)),
        },
        Scenario {
            id: "sharing.link-opens-only-for-the-account-of-its-address",
            suite: Suite::Sharing,
            title: "An emailed link opens for the dataminer.services account of its address, or one created for it with a mailed code; another account or none is refused",
            requirements: &["SHARE-2"],
            catches: const {
                &[Catch::by(
                    Fault::CloudAnyAccountCanView,
                    "other-account-refused",
                )]
            },
            body: |ctx| Box::pin(recipients::link_opens_only_for_its_account(ctx)),
        },
        Scenario {
            id: "sharing.recipient-sees-the-dashboard-live-through-the-tunnel",
            suite: Suite::Sharing,
            title: "The DMS's dashboard app, loaded through the link, gets the dashboard's elements and alarms from the DMA through the tunnel, the agent and the WAF as the share user, again at every heartbeat",
            requirements: &["SHARE-3"],
            catches: const {
                &[Catch::by(
                    Fault::WafRawValues,
                    "viewer-shows-the-dashboard-elements-and-alarms",
                )]
            },
            body: |ctx| Box::pin(recipients::dashboard_live_through_the_tunnel(ctx)),
        },
        Scenario {
            id: "sharing.a-real-browser-shows-the-dashboard-live",
            suite: Suite::Sharing,
            title: "Headless Chromium opens the mailed link, signs in as the recipient and renders the DMS's dashboard app with live DMA data in the cloud's frame, under the cloud's banner naming who shared it (screenshot attached), and the page can neither navigate the tab or open a window, read the cloud's own API with the recipient's session, toss a session cookie to the connection host or shadow the recipient's, nor evict the site's cookies with a flood of its own and set the attacker's session; another account with the link is refused, and so is the viewer's URL copied into a browser not signed in as the recipient; skipped, saying so, without a browser",
            requirements: &["SHARE-2", "SHARE-3"],
            catches: const {
                &[
                    Catch::by(Fault::WafRawValues, "browser-shows-live-dma-data"),
                    Catch::by(
                        Fault::CloudSessionCookieUnprefixed,
                        "page-cannot-toss-a-session-to-the-connection-host",
                    ),
                    Catch::by(
                        Fault::CloudAnyAccountCanView,
                        "browser-other-account-refused",
                    ),
                    Catch::by(
                        Fault::CloudDmsPageServedTopLevel,
                        "a-page-cannot-navigate-the-tab",
                    ),
                    Catch::by(
                        Fault::CloudViewerUrlNeedsNoSignIn,
                        "copied-viewer-url-opens-nothing",
                    ),
                ]
            },
            body: |ctx| Box::pin(browser::a_real_browser_shows_the_dashboard_live(ctx)),
        },
        Scenario {
            id: "sharing.an-oversized-request-ends-no-tunnel",
            suite: Suite::Sharing,
            title: "A request with 48 KB of headers over HTTP/1.1, through the viewer's relay and through remote access, is refused as a client error; the DMS's tunnels are the same ones afterwards and the next request is answered",
            requirements: &["DOS-1", "TUN-1"],
            catches: const {
                &[Catch::by(
                    Fault::CloudRelayPassesAnyHeaderSize,
                    "oversized-request-ends-no-tunnel",
                )]
            },
            body: |ctx| Box::pin(oversized::an_oversized_request_ends_no_tunnel(ctx)),
        },
        Scenario {
            id: "sharing.a-tab-shows-the-clouds-frame-not-the-dms-page",
            suite: Suite::Sharing,
            title: "A tab's navigation to a viewer's URL gets a page of the cloud's own, naming the organisation and DMS the content is from and framing the DMS's page in a sandbox of scripts only; the DMS's page is what the frame gets, for the signed-in account only, a request without fetch metadata gets it only as a download, and every answer relayed from the DMS carries that sandbox itself",
            requirements: &["SHARE-2", "SHARE-3"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudDmsPageServedTopLevel,
                        "a-tab-gets-the-clouds-frame",
                    ),
                    Catch::by(
                        Fault::CloudRelayUnsandboxed,
                        "every-relayed-answer-is-sandboxed",
                    ),
                    Catch::by(
                        Fault::CloudRelayKeepsDmsHeaders,
                        "every-relayed-answer-is-sandboxed",
                    ),
                    Catch::by(
                        Fault::CloudUnlabelledViewerAnswersRender,
                        "unlabelled-answers-render-nowhere",
                    ),
                    Catch::by(
                        Fault::CloudViewerUrlNeedsNoSignIn,
                        "a-frames-navigation-needs-the-sign-in",
                    ),
                ]
            },
            body: |ctx| Box::pin(viewer_frame::a_tab_shows_the_clouds_frame(ctx)),
        },
        Scenario {
            id: "sharing.viewer-urls-open-only-their-own-viewer",
            suite: Suite::Sharing,
            title: "The viewer's URL carries its session as a capability: the sandboxed page's requests are served with no cookie and its CORS preflight is granted without credentials; another link's capability, a made-up one, the link's path without one the capability of a signed-out account and that of a sign-in left unused past its idle lifetime are refused, and the DMA carries out nothing for them; the page's requests do not keep the sign-in alive",
            requirements: &["SHARE-2", "SHARE-3"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudSignOutKeepsViewers,
                        "signed-out-viewer-url-refused",
                    ),
                    Catch::by(
                        Fault::CloudViewerOutlivesItsSignIn,
                        "viewer-ends-with-its-sign-in",
                    ),
                    Catch::by(
                        Fault::CloudViewerRequestsKeepTheSignIn,
                        "page-requests-do-not-keep-the-sign-in",
                    ),
                ]
            },
            body: |ctx| Box::pin(viewer_urls::viewer_urls_open_only_their_own_viewer(ctx)),
        },
        Scenario {
            id: "sharing.recipient-reaches-only-the-dashboard-shared-with-them",
            suite: Suite::Sharing,
            title: "A recipient gets nothing with another share's link, another dashboard's calls in their viewer (also naming its share in the relay's headers), the organisation's front end, or a modified or guessed token; each of their viewers acts as its own share's user only",
            requirements: &["SHARE-2", "SHARE-3"],
            catches: const {
                &[
                    Catch::by(Fault::CloudAnyAccountCanView, "another-shares-link-refused"),
                    Catch::by(
                        Fault::CloudGuessableShareToken,
                        "modified-or-guessed-token-opens-nothing",
                    ),
                    Catch::by(
                        Fault::AgentSharesOneSession,
                        "each-viewer-acts-as-its-own-share",
                    ),
                    Catch::by(
                        Fault::CloudRelayKeepsTrustHeaders,
                        "another-shares-calls-not-carried-out",
                    ),
                ]
            },
            body: |ctx| Box::pin(attacks::recipient_reaches_only_their_share(ctx)),
        },
        Scenario {
            id: "sharing.reopening-a-link-keeps-the-dms-sessions-bounded",
            suite: Suite::Sharing,
            title: "A recipient who opens their link again and again, each time a new viewer, leaves no more of the share user's sessions open on the DMA than the project's bound; the newest viewer shows the dashboard and an earlier one is served again",
            requirements: &["TUN-1", "SHARE-3"],
            catches: const {
                &[Catch::by(
                    Fault::AgentViewerSessionsUnbounded,
                    "dma-share-sessions-bounded",
                )]
            },
            body: |ctx| Box::pin(reopening::reopening_keeps_dma_sessions_bounded(ctx)),
        },
        Scenario {
            id: "sharing.reopening-a-link-keeps-the-clouds-viewer-sessions-bounded",
            suite: Suite::Sharing,
            title: "A recipient who opens their link again and again, each time a new viewer, leaves no more viewer sessions for their account and link in the cloud's table than the project's bound; the oldest viewer's URL is then refused and the newest are served",
            requirements: &["TUN-1", "SHARE-3"],
            catches: const {
                &[Catch::by(
                    Fault::CloudViewerSessionsUnbounded,
                    "cloud-viewer-sessions-bounded",
                )]
            },
            body: |ctx| Box::pin(cloud_viewers::reopening_keeps_cloud_sessions_bounded(ctx)),
        },
        Scenario {
            id: "sharing.a-log-out-the-dma-missed-is-sent-again",
            suite: Suite::Sharing,
            title: "When the Cloud Gateway lets a viewer's session go while the DMA cannot be reached, that session is ended on the DMA once it is reachable again and the clock moves on; viewers are served again",
            requirements: &["TUN-1", "SHARE-3"],
            catches: const {
                &[Catch::by(
                    Fault::AgentLogOutOnce,
                    "session-let-go-ends-on-the-dma",
                )]
            },
            body: |ctx| Box::pin(log_out_retry::a_missed_log_out_is_sent_again(ctx)),
        },
        Scenario {
            id: "sharing.deleting-a-share-ends-links-viewers-user-and-whitelist",
            suite: Suite::Sharing,
            title: "Deleting a share makes its links answer 410 Gone, ends open viewers at their next heartbeat, removes its user from the DMA and its whitelist from the WAF; replays reach nothing",
            requirements: &["SHARE-5"],
            catches: const {
                &[
                    Catch::by(Fault::CloudLinksSurviveDelete, "emailed-link-answers-gone"),
                    Catch::by(
                        Fault::CloudSessionsSurviveDelete,
                        "open-viewer-session-ends",
                    ),
                    Catch::by(
                        Fault::DmaShareUserSurvivesDelete,
                        "share-user-removed-from-the-dma",
                    ),
                ]
            },
            body: |ctx| Box::pin(ending::deleting_ends_everything(ctx)),
        },
        Scenario {
            id: "sharing.one-viewer-cannot-hold-the-relay",
            suite: Suite::Sharing,
            title: "With the DMS's side holding every request, a viewer fills its bound of requests in the relay; its next request is refused at once with 429 and never reaches the DMS, another recipient's viewer is still carried through, and the first viewer is served again once its requests end",
            requirements: &["TUN-1", "DOS-1"],
            catches: const {
                &[Catch::by(
                    Fault::CloudRelayStreamsUnbounded,
                    "viewer-past-its-bound-refused-at-once",
                )]
            },
            body: |ctx| Box::pin(relay_bound::one_viewer_cannot_hold_the_relay(ctx)),
        },
        Scenario {
            id: "sharing.the-relay-gives-up-on-a-silent-dms",
            suite: Suite::Sharing,
            title: "With the DMS's side never answering, a recipient's call enters the tunnel and the relay answers it 504 at its bound on a DMS's answer head (set to 2 s here, 30 s in the product), before the Cloud Gateway's own bound; once the DMS answers again the viewer is served",
            requirements: &["TUN-1", "DOS-1"],
            catches: const {
                &[Catch::by(
                    Fault::CloudRelayAnswerUnbounded,
                    "relay-gives-up-on-a-silent-dms",
                )]
            },
            body: |ctx| Box::pin(answer_bound::the_relay_gives_up_on_a_silent_dms(ctx)),
        },
        Scenario {
            id: "sharing.expired-share-ends-as-a-deleted-one",
            suite: Suite::Sharing,
            title: "Once its expiry passes, a share's links answer 410 Gone, its open viewers end, its user leaves the DMA and its whitelist the WAF",
            requirements: &["SHARE-5"],
            catches: const {
                &[
                    Catch::by(Fault::CloudLinksSurviveDelete, "expired-link-answers-gone"),
                    Catch::by(
                        Fault::CloudSessionsSurviveDelete,
                        "open-viewer-session-ends-at-expiry",
                    ),
                    Catch::by(
                        Fault::DmaShareUserSurvivesDelete,
                        "expired-share-user-removed-from-the-dma",
                    ),
                ]
            },
            body: |ctx| Box::pin(ending::expiry_ends_everything(ctx)),
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
        Scenario {
            id: "waf.blocks-what-it-cannot-read",
            suite: Suite::Waf,
            title: "Requests the signed-in recipient sends through their viewer that the WAF cannot read one way (a key twice, odd encodings, unknown or doubled content types, conflicting framing) go no further than the WAF",
            requirements: &["WAF-4"],
            catches: const {
                &[Catch::by(
                    Fault::WafFailOpen,
                    "unreadable-requests-stopped-at-the-waf",
                )]
            },
            body: |ctx| Box::pin(fail_closed::unreadable_requests_blocked(ctx)),
        },
        Scenario {
            id: "waf.refuses-what-it-cannot-tie-to-a-live-share",
            suite: Suite::Waf,
            title: "Sent from outside by a remote-access account (a stream that carries no viewer), no connection, a made-up one, a DMS user's session opened on the public API, a deleted share's viewer session and a viewer session the gateway ended each reach the WAF and are refused there",
            requirements: &["WAF-4"],
            catches: const {
                &[Catch::by(
                    Fault::WafFailOpen,
                    "untied-requests-not-executed",
                )]
            },
            body: |ctx| Box::pin(untied::untied_requests_refused(ctx)),
        },
        Scenario {
            id: "waf.ties-a-shares-call-only-to-the-gateways-session",
            suite: Suite::Waf,
            title: "A share's session named in a request's body is not honoured: sent from outside by the recipient of another share through their viewer, and by a remote-access account, each of that share's calls is refused at the WAF; the recipient's own calls still run",
            requirements: &["WAF-2", "WAF-4"],
            catches: const {
                &[Catch::by(
                    Fault::WafTrustsBodyConnection,
                    "no-call-carried-out-on-a-session-named-in-the-body",
                )]
            },
            body: |ctx| Box::pin(untied::body_connection_not_trusted(ctx)),
        },
        Scenario {
            id: "waf.rate-limits-sign-ins-through-the-gateway",
            suite: Suite::Waf,
            title: "A burst of wrong passwords for a share user through the gateway reaches the DMA only up to the limit; the window passes and the right one works",
            requirements: &["WAF-4"],
            catches: const {
                &[Catch::by(
                    Fault::WafSignInsUnlimited,
                    "wrong-passwords-the-dma-saw",
                )]
            },
            body: |ctx| Box::pin(fail_closed::sign_ins_rate_limited(ctx)),
        },
        Scenario {
            id: "waf.keyless-sign-ins-lock-out-no-one",
            suite: Suite::Waf,
            title: "Wrong sign-ins sent by a local process straight to the WAF's port without the gateway key, as a share's user and for a forged remote account, well past every bound, lock no one out: a new viewer of the share renders and the account signs in through the cloud",
            requirements: &["WAF-4", "DOS-1", "USER-4"],
            catches: const {
                &[Catch::by(
                    Fault::WafCountsKeylessSignIns,
                    "new-viewer-renders-after-keyless-sign-ins",
                )]
            },
            body: |ctx| Box::pin(keyless::keyless_sign_ins_lock_out_no_one(ctx)),
        },
    ]
}
