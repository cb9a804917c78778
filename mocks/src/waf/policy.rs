//! How the WAF reads and matches calls, settled once when it starts. The defaults are the
//! specification's WAF; each fault is one setting a real WAF gets wrong.

use crate::world::{Fault, FaultSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MatchPolicy {
    /// Whether requests are inspected at all: `waf.allow-everything` is a WAF whose rule engine
    /// was left off, forwarding everything it can read.
    pub inspect: bool,
    pub reader: Reader,
    pub method: MethodMatch,
    pub parameters: ParameterMatch,
}

/// How the WAF reads a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    /// The reader the DMA uses too.
    Shared,
    /// A reader of its own that keeps the first of duplicated keys where the DMA's refuses the
    /// body (`waf.first-duplicate-key-wins`): a parser differential.
    FirstDuplicateWins,
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
            reader: if faults.is_on(Fault::WafFirstDuplicateKeyWins) {
                Reader::FirstDuplicateWins
            } else {
                Reader::Shared
            },
            method: if faults.is_on(Fault::WafCaseInsensitiveMethod) {
                MethodMatch::IgnoreCase
            } else {
                MethodMatch::Exact
            },
            parameters,
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
