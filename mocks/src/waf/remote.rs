//! Remote-access sign-ins: a `ConnectApp` the cloud relayed for one of the organisation's
//! accounts (it names the account in `REMOTE_ACCOUNT_HEADER`). They are kept apart from the
//! gateway's own sign-ins so that they can lock out no one else:
//! - a share user is signed in only by the Cloud Gateway itself, never by a remote request,
//!   so a remote sign-in as a share user is refused before the DMA sees it and counts against
//!   nobody: no remote account can lock a share's user out;
//! - a remote account's failed sign-ins are counted against that account, across every login
//!   it tries, not against the logins: one account cannot guess through many logins, and its
//!   guesses cost other accounts nothing. The WAF stands in front of one DMS, so the bound is
//!   per account and DMS.

use std::collections::HashMap;
use std::sync::Mutex;

use super::policy::SignInLimit;
use crate::world::{Fault, FaultSet};

/// How many failed remote sign-ins one account may have on this DMS in a window (the figure
/// is a project decision; `fixtures/spec.json` states it for the scenarios).
const PER_ACCOUNT: SignInLimit = SignInLimit {
    failures: 5,
    window_seconds: 300,
};

/// How remote sign-ins are judged, settled once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RemotePolicy {
    /// Share users' logins are refused (`waf.remote-sign-ins-reach-share-users` passes them
    /// on as any gateway sign-in, counted against the share user's login).
    pub share_logins_refused: bool,
    /// The bound on one account's failures; `None` (`waf.remote-guessing-per-login-only`):
    /// only the per-login limit applies.
    pub per_account: Option<SignInLimit>,
}

impl RemotePolicy {
    pub fn from_faults(faults: &FaultSet) -> Self {
        Self {
            share_logins_refused: !faults.is_on(Fault::WafRemoteSignInsReachShareUsers),
            per_account: (!faults.is_on(Fault::WafRemoteGuessingPerLoginOnly))
                .then_some(PER_ACCOUNT),
        }
    }
}

/// What the WAF does with one remote sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RemoteVerdict {
    /// Blocked with this reason: a share user's login.
    Refused(String),
    /// Blocked: the account failed this often within the window.
    Limited { failed: usize, window_seconds: u64 },
    /// Passed on; a failure counts against the account.
    CountedPerAccount,
    /// Passed on as any gateway sign-in: a failure counts against the login.
    CountedPerLogin,
}

/// Remote sign-ins' failures, per account.
#[derive(Debug)]
pub(crate) struct RemoteSignIns {
    pub policy: RemotePolicy,
    failures: Mutex<HashMap<String, Vec<u64>>>,
}

impl RemoteSignIns {
    pub fn new(policy: RemotePolicy) -> Self {
        Self {
            policy,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The verdict on `account`'s sign-in, a share user's when `share` is named.
    pub fn judge(&self, account: &str, share: Option<&str>, now: u64) -> RemoteVerdict {
        if let Some(share_id) = share {
            if self.policy.share_logins_refused {
                return RemoteVerdict::Refused(format!(
                    "a remote-access sign-in as share {share_id}'s user: share users are \
                     signed in only by the Cloud Gateway"
                ));
            }
            return RemoteVerdict::CountedPerLogin;
        }
        let Some(limit) = self.policy.per_account else {
            return RemoteVerdict::CountedPerLogin;
        };
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let failed = failures.entry(account.to_ascii_lowercase()).or_default();
        failed.retain(|&at| at + limit.window_seconds > now);
        if failed.len() >= limit.failures {
            return RemoteVerdict::Limited {
                failed: failed.len(),
                window_seconds: limit.window_seconds,
            };
        }
        RemoteVerdict::CountedPerAccount
    }

    /// Notes a failed sign-in of `account` at `now`.
    pub fn failed(&self, account: &str, now: u64) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(account.to_ascii_lowercase())
            .or_default()
            .push(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_logins_are_refused_and_an_account_is_bounded_across_logins() {
        let remote = RemoteSignIns::new(RemotePolicy::from_faults(&FaultSet::none()));
        assert!(matches!(
            remote.judge("a@x", Some("share-1"), 0),
            RemoteVerdict::Refused(_)
        ));
        for at in 0..5 {
            assert_eq!(
                remote.judge("a@x", None, at),
                RemoteVerdict::CountedPerAccount
            );
            remote.failed("a@x", at);
        }
        assert!(matches!(
            remote.judge("a@x", None, 10),
            RemoteVerdict::Limited { .. }
        ));
        assert_eq!(
            remote.judge("b@x", None, 10),
            RemoteVerdict::CountedPerAccount
        );
        assert_eq!(
            remote.judge("a@x", None, 400),
            RemoteVerdict::CountedPerAccount
        );
    }
}
