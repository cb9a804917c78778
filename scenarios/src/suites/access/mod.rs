//! Remote access (WAF-4 as reworded): an organisation's accounts reaching their DMS's API
//! through the tunnel with their own DMS credentials. Off until an Owner or Admin enables it
//! for a DMS and named accounts; the DMS's own rights apply to whoever signs in; a remote
//! session serves only the account it was opened for; and remote sign-in failures lock out
//! no share user and no other account, while one account's guesses are bounded across every
//! login it tries; and no header an account adds makes it a share's viewer. Guessing a
//! dataminer.services account's own password is bounded too, and a browser is signed in only from the host's own pages (`cloud_sign_in`).

mod cloud_sign_in;
mod enabling;
mod lockout;
mod rights;
pub(crate) mod support;
mod trusted_headers;

use mocks::world::Fault;

use crate::{Catch, Scenario, Suite};

pub(crate) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "access.cloud-password-guessing-is-bounded",
            suite: Suite::Access,
            title: "Wrong passwords for one dataminer.services address, on either host, are answered 401 up to the bound in the spec's data, then 429 until its window passes, the right password too; another address signs in meanwhile, and the right password works after the window",
            requirements: &["SHARE-2", "DOS-1"],
            catches: const {
                &[Catch::by(
                    Fault::CloudSignInGuessingUnbounded,
                    "guesses-past-the-bound-refused",
                )]
            },
            body: |ctx| Box::pin(cloud_sign_in::cloud_password_guessing_is_bounded(ctx)),
        },
        Scenario {
            id: "access.sign-in-only-from-the-hosts-own-pages",
            suite: Suite::Access,
            title: "A sign-in form posted into a browser from another site's or another dataminer.services host's page (login CSRF, with the attacker's credentials) sets no session on either host; the host's own form does",
            requirements: &["SHARE-2", "FLOW-1"],
            catches: const {
                &[Catch::by(
                    Fault::CloudSignInFromAnySite,
                    "cross-site-sign-in-sets-no-session",
                )]
            },
            body: |ctx| Box::pin(cloud_sign_in::sign_in_only_from_own_pages(ctx)),
        },
        Scenario {
            id: "access.remote-access-is-off-until-enabled-per-dms-and-account",
            suite: Suite::Access,
            title: "Remote access is off until enabled: refused on the wire before anyone enables it, a Member cannot enable it, and enabled for DMS X and account A only, another account on X and A on another DMS are refused",
            requirements: &["WAF-4"],
            catches: const {
                &[
                    Catch::by(
                        Fault::CloudRemoteAccessAlwaysOn,
                        "disabled-by-default-refused",
                    ),
                    Catch::by(
                        Fault::CloudRemoteAccessMembersEnable,
                        "member-cannot-enable",
                    ),
                    Catch::by(
                        Fault::CloudOrgAdminAcceptsCrossSite,
                        "cross-site-admin-request-refused",
                    ),
                    Catch::by(
                        Fault::CloudRemoteAccessPerOrganization,
                        "other-account-refused",
                    ),
                ]
            },
            body: |ctx| Box::pin(enabling::off_until_enabled(ctx)),
        },
        Scenario {
            id: "access.dms-rights-apply-to-remote-users",
            suite: Suite::Access,
            title: "Through remote access a read-only DMS user reads and writes nothing, an Operator writes, and a remote session serves only the account it was opened for: as the DMA's executed calls show",
            requirements: &["WAF-4"],
            catches: const {
                &[Catch::by(
                    Fault::DmaGatewaySkipsUserRights,
                    "read-only-user-cannot-write-remotely",
                )]
            },
            body: |ctx| Box::pin(rights::dms_rights_apply(ctx)),
        },
        Scenario {
            id: "access.remote-sign-ins-cannot-lock-out-share-users",
            suite: Suite::Access,
            title: "A remote-access account guessing a share user's password never reaches the DMA with it, and the Cloud Gateway's own sign-in of that share user still works",
            requirements: &["WAF-4", "USER-4"],
            catches: const {
                &[Catch::by(
                    Fault::WafRemoteSignInsReachShareUsers,
                    "share-user-sign-in-unaffected",
                )]
            },
            body: |ctx| Box::pin(lockout::share_users_cannot_be_locked_out(ctx)),
        },
        Scenario {
            id: "access.remote-password-guessing-is-bounded-per-account",
            suite: Suite::Access,
            title: "One account's failed remote sign-ins on a DMS are bounded across every login it tries; another account signs in meanwhile, and the account itself once the window passed",
            requirements: &["WAF-4"],
            catches: const {
                &[Catch::by(
                    Fault::WafRemoteGuessingPerLoginOnly,
                    "guesses-across-logins-bounded",
                )]
            },
            body: |ctx| Box::pin(lockout::guessing_is_bounded_per_account(ctx)),
        },
        Scenario {
            id: "access.remote-access-gets-no-shares-session",
            suite: Suite::Access,
            title: "A remote-access account that names a share and a viewer, or forges a share's session and the gateway's key, in the headers the DMS's side trusts gets no share's session: the DMA carries out nothing as the share's user and the WAF ties nothing to the share; its calls run on its own remote session only",
            requirements: &["WAF-4"],
            catches: const {
                &[Catch::by(
                    Fault::CloudRemoteRelayPassesTrustedHeaders,
                    "no-share-session-through-remote-access",
                )]
            },
            body: |ctx| Box::pin(trusted_headers::no_share_session_through_remote_access(ctx)),
        },
    ]
}
