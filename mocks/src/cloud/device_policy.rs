//! How the connect flow issues, binds and delivers, settled once when the cloud is built (the
//! faults turn its settings): how long codes live and how often the agent may poll, how many
//! grants one address and all together may hold, how a grant is tied to the DMS that asked,
//! and where the token goes once approved.

use std::time::Duration;

use super::approval_policy::ApprovalPolicy;
use super::grant_bound::{GrantBound, OPEN_GRANTS_IN_ALL, WhenFull};
use crate::world::{Fault, FaultSet};

/// How long a device code may wait for approval.
const DEVICE_CODE_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// The polling interval the agent is told to respect.
pub(super) const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 8628 §3.5: each `slow_down` adds five seconds to the interval.
pub(super) const SLOW_DOWN_STEP: u64 = 5;
/// RFC 8628 §6.1: consonants only, so a user code spells no word and survives dictation;
/// 20^8 codes, about 34.6 bits, against a rate-limited guesser.
pub(super) const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

pub(super) const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// How the connect flow issues, binds and delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeviceFlowPolicy {
    pub codes: CodePolicy,
    pub binding: GrantBinding,
    pub approval: ApprovalPolicy,
    pub delivery: Delivery,
}

/// How device codes live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CodePolicy {
    pub lifetime: Duration,
    /// Codes past their lifetime are refused.
    pub expire: bool,
    /// A redeemed device code is spent.
    pub single_use: bool,
    /// A poll sooner than the interval after the last one gets `slow_down`.
    pub slow_down: bool,
    /// A redemption reads the grant, decides and writes it back after a store round trip,
    /// instead of deciding and spending under one lock: concurrent polls each see it unspent.
    pub read_then_write: bool,
    /// Grants past their lifetime are removed (at the next authorization, or maintenance).
    pub sweep_expired: bool,
    /// The most grants one source address may have open at once (DOS-1), if limited.
    pub per_source: Option<usize>,
    /// The most grants the cloud holds in all (DOS-1), if limited, and what a new one does
    /// past it.
    pub in_all: Option<GrantBound>,
}

/// The most grants one address may have waiting at once: far above what one site's DMSs
/// start within a code's 15 minutes, far below what fills memory.
const OPEN_GRANTS_PER_SOURCE: usize = 64;
/// The most approval-page tickets one grant keeps: every opening of its page makes one.
pub(super) const TICKETS_PER_GRANT: usize = 8;

/// How a grant is tied to the DMS that asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GrantBinding {
    /// A registered DMS's grant is bound to its registered key, whatever key the request
    /// presents; otherwise to the presented one, which its redemption then registers.
    pub registered_key: bool,
    /// Redeeming a device code needs an assertion by the grant's key.
    pub redeem_needs_key: bool,
    /// A DMS ID is taken only in its canonical (lowercase) form and never beside a registered
    /// one that differs in case alone; otherwise (`cloud.dms-id-case-lookalike`) in any case,
    /// so `DMS-BCEBD039` registers beside `dms-bcebd039` with the same look.
    pub canonical_ids: bool,
    /// A DMS ID has no dot, so it never reads as a host name where a mail or page names it
    /// (`cloud.dms-id-may-be-a-host-name` allows dots).
    pub ids_without_dots: bool,
    /// A DMS's name is plain text (`dms_text`), as the approval page shows it beside the ID;
    /// otherwise (`cloud.dms-name-unchecked`) it is only bounded in length.
    pub plain_names: bool,
}

/// Where the token goes once a user code is approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Only to the DMS, in the answer to its own poll (FLOW-2).
    ServerToServer,
    /// Also to the browser, in the fragment of the approval's redirect (the implicit grant's
    /// shape), from where a page would hand it on: the DMS then polls the same pair.
    ThroughTheBrowser,
    /// Also to the browser, base64-encoded in a cookie the approval sets for the confirmation
    /// page: the DMS then polls the same pair.
    BrowserCookie,
}

impl DeviceFlowPolicy {
    pub fn from_faults(faults: &FaultSet) -> Self {
        let on = |fault| faults.is_on(fault);
        Self {
            codes: CodePolicy {
                lifetime: DEVICE_CODE_LIFETIME,
                expire: !on(Fault::CloudDeviceCodeNeverExpires),
                single_use: !on(Fault::CloudDeviceCodeReusable),
                slow_down: !on(Fault::CloudNoSlowDown),
                read_then_write: on(Fault::CloudDeviceCodeCheckThenSpend),
                sweep_expired: !on(Fault::CloudDeviceGrantsNeverSwept),
                per_source: (!on(Fault::CloudNoPerSourceLimit)).then_some(OPEN_GRANTS_PER_SOURCE),
                in_all: (!on(Fault::CloudDeviceGrantsBoundedPerSourceOnly)).then_some(GrantBound {
                    limit: OPEN_GRANTS_IN_ALL,
                    when_full: if on(Fault::CloudDeviceGrantsRefusedWhenFull) {
                        WhenFull::Refuse
                    } else if on(Fault::CloudDeviceGrantsPushOutTheOldest) {
                        WhenFull::PushOutTheOldest
                    } else {
                        WhenFull::PushOutTheBusiest
                    },
                }),
            },
            binding: GrantBinding {
                registered_key: !on(Fault::CloudDeviceFlowTrustsDmsId),
                redeem_needs_key: !on(Fault::CloudDeviceCodeIsBearer),
                canonical_ids: !on(Fault::CloudDmsIdCaseLookalike),
                ids_without_dots: !on(Fault::CloudDmsIdMayBeAHostName),
                plain_names: !on(Fault::CloudDmsNameUnchecked),
            },
            approval: ApprovalPolicy::from_faults(faults),
            delivery: if on(Fault::CloudTokenViaBrowser) {
                Delivery::ThroughTheBrowser
            } else if on(Fault::CloudTokenInBrowserCookie) {
                Delivery::BrowserCookie
            } else {
                Delivery::ServerToServer
            },
        }
    }
}
