//! What the token service issues, accepts, renews and revokes: the specification's policy, and
//! what a build with the faults' bugs would run with, settled once when the cloud is built.

use std::time::Duration;

use jsonwebtoken::Algorithm;

use crate::world::{Fault, FaultSet};

/// Every token is valid for one week.
pub(super) const TOKEN_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// How far past `exp` (and before `nbf`/`iat`) a token is still accepted, for clocks that
/// disagree a little.
pub(crate) const CLOCK_SKEW: Duration = Duration::from_secs(30);

/// The lifetime a team that misread "one week" as "one month" would configure.
const MONTH: Duration = Duration::from_secs(30 * 24 * 3600);

/// How the token service issues, accepts, renews and revokes tokens. `specified()` is the
/// specification's; `from_faults` is what a build with those bugs would run with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenPolicy {
    /// `exp - iat` of every token issued.
    pub lifetime: Duration,
    /// The lifetime of a token the refresh grant issues: the same week, unless a second code
    /// path computes its own.
    pub refresh_lifetime: Duration,
    /// How far clocks may disagree at `exp`, `nbf` and `iat`.
    pub clock_skew: Duration,
    /// The signed `alg` values accepted, each checked with the vault's key.
    pub algorithms: Vec<Algorithm>,
    /// Whether an `alg: none` token (any casing) is taken without a signature.
    pub accept_unsigned: bool,
    /// Whether `exp` is enforced.
    pub check_exp: bool,
    /// Whether a disconnect's revocation kills anything, or is only acknowledged.
    pub revoke_on_disconnect: bool,
    /// What a DMS's disconnect revokes.
    pub disconnect: DisconnectScope,
    pub refresh: RefreshPolicy,
    /// Which DMS a caller may act for.
    pub binding: Binding,
    /// Whether signing writes the key to the log, as a debug statement left in would.
    pub log_key_material: bool,
    /// Whether a DMS's revocation of a token of another DMS revokes that DMS's families, the
    /// owner check left out (`cloud.revoke-any-family`): one tenant disconnects another.
    pub revoke_others: bool,
    /// Whether a revocation finds a family by an access token a renewal has superseded, or
    /// only by the family's latest one (as a lookup in a table of current tokens does).
    pub revoke_by_superseded: bool,
}

/// How refresh keys behave (RFC 6749 §10.4, RFC 9700 §4.14.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RefreshPolicy {
    /// A refresh key is spent by its first use.
    pub single_use: bool,
    /// A spent key presented again revokes its whole family.
    pub revoke_family_on_replay: bool,
}

/// What a DMS's disconnect (its revocation request) revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DisconnectScope {
    /// Every family of the DMS, whoever holds its tokens and refresh keys.
    Dms,
    /// The family of the token the DMS presented, and no other.
    PresentedFamily,
}

/// Which checks a front end makes of a bearer token beyond its signature: all of them, unless
/// a route was given a validator of its own that leaves one out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checks {
    /// The token's `exp` (with the skew allowance).
    pub exp: bool,
    /// The token's family is not revoked.
    pub revocation: bool,
}

impl Checks {
    pub const ALL: Checks = Checks {
        exp: true,
        revocation: true,
    };
}

/// The resource-binding decision: which DMS a token (or a signed-in account) may act for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binding {
    /// A token acts for the DMS it names in `sub`; an account for its organisation's DMSs.
    Own,
    /// Whoever is authenticated acts for any registered DMS: binding left out.
    AnyRegistered,
}

impl TokenPolicy {
    pub fn specified() -> Self {
        Self {
            lifetime: TOKEN_LIFETIME,
            refresh_lifetime: TOKEN_LIFETIME,
            clock_skew: CLOCK_SKEW,
            algorithms: vec![Algorithm::HS256],
            accept_unsigned: false,
            check_exp: true,
            revoke_on_disconnect: true,
            disconnect: DisconnectScope::Dms,
            refresh: RefreshPolicy {
                single_use: true,
                revoke_family_on_replay: true,
            },
            binding: Binding::Own,
            log_key_material: false,
            revoke_others: false,
            revoke_by_superseded: true,
        }
    }

    pub fn from_faults(faults: &FaultSet) -> Self {
        let mut policy = Self::specified();
        let on = |fault| faults.is_on(fault);
        if on(Fault::CloudTokenLifetime30d) {
            policy.lifetime = MONTH;
            policy.refresh_lifetime = MONTH;
        }
        if on(Fault::CloudRefreshTokenEightDays) {
            // A renewal path that adds a day of grace "so the DMS never runs dry".
            policy.refresh_lifetime = TOKEN_LIFETIME + Duration::from_secs(24 * 3600);
        }
        if on(Fault::CloudAcceptAnyHmac) {
            policy.algorithms = vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
        }
        policy.accept_unsigned = on(Fault::CloudAcceptAlgNone);
        policy.check_exp = !on(Fault::CloudSkipExp);
        policy.revoke_on_disconnect = !on(Fault::CloudNoRevokeOnDisconnect);
        if on(Fault::CloudDisconnectRevokesOneFamily) {
            policy.disconnect = DisconnectScope::PresentedFamily;
        }
        policy.refresh.single_use = !on(Fault::CloudRefreshReusable);
        policy.refresh.revoke_family_on_replay = !on(Fault::CloudNoFamilyRevocation);
        if on(Fault::CloudIgnoreSub) {
            policy.binding = Binding::AnyRegistered;
        }
        policy.log_key_material = on(Fault::CloudSecretInLogs);
        policy.revoke_others = on(Fault::CloudRevokeAnyFamily);
        policy.revoke_by_superseded = !on(Fault::CloudRevokeIgnoresSupersededToken);
        policy
    }
}
