//! How the WAF reads and matches calls, settled once when it starts. The defaults are the
//! specification's WAF; each fault is one setting a real WAF gets wrong.

use super::body::Duplicates;
use crate::world::{Fault, FaultSet};

/// How many failed sign-ins one share user may have through the gateway in a window before the
/// WAF stops passing its sign-ins on: a share user's password is only ever typed by the Cloud
/// Gateway, so a run of failures is someone guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SignInLimit {
    pub failures: usize,
    pub window_seconds: u64,
}

/// The limit a careful WAF sets (the figure is a project decision; `fixtures/spec.json` states
/// it for the scenarios).
const SIGN_IN_LIMIT: SignInLimit = SignInLimit {
    failures: 5,
    window_seconds: 300,
};

/// What the WAF does with a request its inspection cannot decide: one its reader refuses, or
/// one it cannot tie to a live share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Undecided {
    /// Blocked: the WAF fails closed (WAF-4).
    Block,
    /// Forwarded to the DMA uninspected (`waf.fail-open`), as an inspection engine whose error
    /// path passes the request on.
    Forward,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MatchPolicy {
    /// Whether requests are inspected at all: `waf.allow-everything` is a WAF whose rule engine
    /// was left off, forwarding everything it can read.
    pub inspect: bool,
    pub duplicates: Duplicates,
    pub undecided: Undecided,
    /// `None` when sign-ins are not limited (`waf.sign-ins-unlimited`).
    pub sign_ins: Option<SignInLimit>,
    pub method: MethodMatch,
    pub parameters: ParameterMatch,
    /// Whether a request whose `X-Forwarded-For` names loopback passes uninspected
    /// (`waf.trusts-forwarded-for`): a header anyone upstream can write.
    pub trusts_forwarded_for: bool,
    /// Whether the call's connection is read from its body (`waf.trusts-body-connection`): a
    /// share's session named there is taken under that share's whitelist whoever sent it, and
    /// the Cloud Gateway's attached session only fills in for a body that names none. The
    /// careful WAF ties a share's call to the session the gateway attached, and to nothing else.
    pub trusts_body_connection: bool,
}

/// How a call's method is compared with a whitelisted one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MethodMatch {
    Exact,
    /// ASCII case ignored (`waf.case-insensitive-method`), as in a WAF built for a
    /// case-insensitive web server.
    IgnoreCase,
}

/// How a call's parameters are compared with a whitelisted call's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParameterMatch {
    /// The canonical parameters equal one whitelisted call's.
    Canonical,
    /// Not compared at all (`waf.method-only`).
    Ignored,
    /// The same names, whatever the values (`waf.ignore-params`).
    NamesOnly,
    /// The same names, and each value found in some whitelisted call of the method, not
    /// necessarily the same one (`waf.match-ids-independently`): allowed pairs cross-combine.
    EachValueSomewhere,
    /// Raw JSON values (`waf.raw-values`): `"100"` is not `100`, and dashboards break.
    Raw,
}

impl MatchPolicy {
    pub fn from_faults(faults: &FaultSet) -> Self {
        let parameters = if faults.is_on(Fault::WafMethodOnly) {
            ParameterMatch::Ignored
        } else if faults.is_on(Fault::WafRawValues) {
            ParameterMatch::Raw
        } else if faults.is_on(Fault::WafIgnoreParams) {
            ParameterMatch::NamesOnly
        } else if faults.is_on(Fault::WafMatchIdsIndependently) {
            ParameterMatch::EachValueSomewhere
        } else {
            ParameterMatch::Canonical
        };
        Self {
            inspect: !faults.is_on(Fault::WafAllowEverything),
            duplicates: if faults.is_on(Fault::WafFirstDuplicateKeyWins) {
                Duplicates::FirstWins
            } else {
                Duplicates::Refused
            },
            undecided: if faults.is_on(Fault::WafFailOpen) {
                Undecided::Forward
            } else {
                Undecided::Block
            },
            sign_ins: (!faults.is_on(Fault::WafSignInsUnlimited)).then_some(SIGN_IN_LIMIT),
            method: if faults.is_on(Fault::WafCaseInsensitiveMethod) {
                MethodMatch::IgnoreCase
            } else {
                MethodMatch::Exact
            },
            parameters,
            trusts_forwarded_for: faults.is_on(Fault::WafTrustsForwardedFor),
            trusts_body_connection: faults.is_on(Fault::WafTrustsBodyConnection),
        }
    }

    /// The specification's WAF.
    #[cfg(test)]
    pub fn strict() -> Self {
        Self::from_faults(&FaultSet::none())
    }
}

impl MethodMatch {
    pub fn same(self, listed: &str, called: &str) -> bool {
        match self {
            MethodMatch::Exact => listed == called,
            MethodMatch::IgnoreCase => listed.eq_ignore_ascii_case(called),
        }
    }
}
