//! How much mail the cloud sends (MAIL-2): per DMS, per organisation and per address, in a
//! rolling window. The figures are the project's decision, as the spec names none: a DMS makes
//! the cloud send at most 200 mails a day (four shares of 50 addresses), an organisation at
//! most 1,000 over all its DMSs (five DMSs' full days), and one address gets at most 10 mails
//! a day from each sender (an organisation's DMSs together, or the cloud's own pages),
//! whatever their kind. The sender is the organisation, not the DMS, because an organisation
//! registers as many DMSs as it likes by approving its own: counted per DMS, twenty DMSs would
//! mail an address 200 times. It is counted per sender all the same so that no tenant can use
//! up another's: another organisation's DMSs mailing an address ten times must not stop a real
//! share reaching it. A batch (one share's mails) is admitted whole or not at all, so a share
//! never goes to part of its list.
//!
//! Sign-up codes, which anyone may ask for any address, are bounded per source too: one source
//! (the address the request came from) gets at most 3 of an address's 10 daily sign-up mails,
//! so someone asking codes for a newcomer's address leaves the newcomer, asking from their own
//! machine, a code; only requests from four machines use the day's mails up, the price of
//! bounding how much mail any address gets (the sign-in bound is counted the same way).

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Mutex;

const PER_DMS: usize = 200;
const PER_ORGANISATION: usize = 1000;
const PER_ADDRESS: usize = 10;
/// Of an address's daily mails from the cloud's pages, how many one source may cause.
const PAGE_PER_ADDRESS_AND_SOURCE: usize = 3;
const WINDOW_SECONDS: u64 = 24 * 3600;

/// Why a batch of mail was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MailLimited {
    #[error("this DMS has had {PER_DMS} mails sent in the last 24 hours")]
    Dms,
    #[error("this organisation has had {PER_ORGANISATION} mails sent in the last 24 hours")]
    Organisation,
    #[error("{0} has been sent {PER_ADDRESS} mails by this sender in the last 24 hours")]
    Address(String),
    #[error(
        "{0} has been sent {PAGE_PER_ADDRESS_AND_SOURCE} sign-up mails asked from this source in the last 24 hours"
    )]
    AddressFromSource(String),
}

/// Who made the cloud send a mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause<'a> {
    /// A DMS, by its verified ID and the organisation it was approved into (a share's links).
    Dms { dms: &'a str, organisation: &'a str },
    /// Someone on the cloud's own pages (a sign-up code), from the address the request came
    /// from, when known.
    Page(Option<IpAddr>),
}

#[derive(Debug)]
struct Sent {
    dms: Option<String>,
    /// The organisation of the DMS that caused it.
    organisation: Option<String>,
    /// The address a page's request came from.
    source: Option<IpAddr>,
    to: String,
    at: u64,
}

/// The mails sent within the window, to judge the next batch by.
#[derive(Debug)]
pub(crate) struct MailLimits {
    enforced: bool,
    /// Whether an address's bound is counted per sender; otherwise one count for all senders,
    /// which another tenant can use up.
    per_sender: bool,
    /// Whether a DMS's mails are counted for its organisation; otherwise for the DMS alone,
    /// which an organisation multiplies by registering more DMSs.
    per_organisation: bool,
    /// Whether an organisation's DMSs together have a daily bound; otherwise
    /// (`cloud.org-daily-mail-unbounded`) each DMS has its own and the organisation none,
    /// which it multiplies by registering more DMSs.
    organisation_day: bool,
    /// Whether a page's mails to an address are also bounded per source; otherwise only the
    /// address's bound holds, which one source can use up.
    per_source: bool,
    sent: Mutex<VecDeque<Sent>>,
}

/// Whether `sent` came from the same sender as the batch: the same organisation's DMSs (or
/// the same DMS, when counted per DMS), or the cloud's pages.
fn same_sender(sent: &Sent, dms: Option<&str>, organisation: Option<&str>, per_org: bool) -> bool {
    if per_org {
        sent.dms.is_some() == dms.is_some() && sent.organisation.as_deref() == organisation
    } else {
        sent.dms.as_deref() == dms
    }
}

impl MailLimits {
    /// Limits that hold when `enforced`; otherwise every batch is admitted.
    pub fn new(
        enforced: bool,
        per_sender: bool,
        per_organisation: bool,
        organisation_day: bool,
        per_source: bool,
    ) -> Self {
        Self {
            enforced,
            per_sender,
            per_organisation,
            organisation_day,
            per_source,
            sent: Mutex::default(),
        }
    }

    /// Admits one mail to each of `to` caused by `cause` at `now`, and counts them; refuses
    /// the whole batch when one limit would be passed.
    pub fn admit(&self, cause: Cause<'_>, to: &[String], now: u64) -> Result<(), MailLimited> {
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        while sent.front().is_some_and(|s| s.at + WINDOW_SECONDS <= now) {
            sent.pop_front();
        }
        let (dms, organisation, source) = match cause {
            Cause::Dms { dms, organisation } => (Some(dms), Some(organisation), None),
            Cause::Page(source) => (None, None, source),
        };
        let per_org = self.per_organisation;
        if self.enforced {
            if let Some(dms) = dms {
                let by_dms = sent
                    .iter()
                    .filter(|s| s.dms.as_deref() == Some(dms))
                    .count();
                if by_dms + to.len() > PER_DMS {
                    return Err(MailLimited::Dms);
                }
            }
            if let Some(organisation) = organisation.filter(|_| per_org && self.organisation_day) {
                let by_org = sent
                    .iter()
                    .filter(|s| s.dms.is_some() && s.organisation.as_deref() == Some(organisation))
                    .count();
                if by_org + to.len() > PER_ORGANISATION {
                    return Err(MailLimited::Organisation);
                }
            }
            for address in to {
                let already = sent
                    .iter()
                    .filter(|s| {
                        s.to.eq_ignore_ascii_case(address)
                            && (same_sender(s, dms, organisation, per_org) || !self.per_sender)
                    })
                    .count();
                let in_batch = to
                    .iter()
                    .filter(|t| t.eq_ignore_ascii_case(address))
                    .count();
                if already + in_batch > PER_ADDRESS {
                    return Err(MailLimited::Address(address.clone()));
                }
                if let Some(source) = source.filter(|_| self.per_source) {
                    let from_source = sent
                        .iter()
                        .filter(|s| {
                            s.dms.is_none()
                                && s.source == Some(source)
                                && s.to.eq_ignore_ascii_case(address)
                        })
                        .count();
                    if from_source + in_batch > PAGE_PER_ADDRESS_AND_SOURCE {
                        return Err(MailLimited::AddressFromSource(address.clone()));
                    }
                }
            }
        }
        sent.extend(to.iter().map(|address| Sent {
            dms: dms.map(str::to_owned),
            organisation: organisation.map(str::to_owned),
            source,
            to: address.clone(),
            at: now,
        }));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dms<'a>(dms: &'a str, organisation: &'a str) -> Cause<'a> {
        Cause::Dms { dms, organisation }
    }

    #[test]
    fn an_organisations_dmss_share_one_bound_per_address_and_one_per_day() {
        let limits = MailLimits::new(true, true, true, true, true);
        let one = vec!["ceo@x.example".to_owned()];
        for i in 0..PER_ADDRESS {
            assert!(
                limits
                    .admit(dms(&format!("dms-{i}"), "org"), &one, 100)
                    .is_ok()
            );
        }
        assert_eq!(
            limits.admit(dms("dms-new", "org"), &one, 100),
            Err(MailLimited::Address(one[0].clone()))
        );
        assert!(limits.admit(dms("dms-new", "other-org"), &one, 100).is_ok());
        let fifty = |d: usize, b: usize| -> Vec<String> {
            (0..50).map(|i| format!("a{d}-{b}-{i}@x.example")).collect()
        };
        let mut sent = PER_ADDRESS;
        'full: for d in 0.. {
            for b in 0..PER_DMS / 50 {
                if sent + 50 > PER_ORGANISATION {
                    break 'full;
                }
                assert!(
                    limits
                        .admit(dms(&format!("bulk-{d}"), "org"), &fifty(d, b), 100)
                        .is_ok()
                );
                sent += 50;
            }
        }
        assert_eq!(
            limits.admit(dms("bulk-last", "org"), &fifty(99, 0), 100),
            Err(MailLimited::Organisation)
        );
    }

    #[test]
    fn counted_per_dms_an_organisation_multiplies_its_bound() {
        let limits = MailLimits::new(true, true, false, true, true);
        let one = vec!["ceo@x.example".to_owned()];
        for i in 0..2 * PER_ADDRESS {
            assert!(
                limits
                    .admit(dms(&format!("dms-{}", i / PER_ADDRESS), "org"), &one, 100)
                    .is_ok()
            );
        }
    }

    #[test]
    fn without_the_organisations_day_its_dmss_send_past_its_bound() {
        let limits = MailLimits::new(true, true, true, false, true);
        let fifty = |d: usize, b: usize| -> Vec<String> {
            (0..50).map(|i| format!("a{d}-{b}-{i}@x.example")).collect()
        };
        for d in 0..=PER_ORGANISATION / PER_DMS {
            for b in 0..PER_DMS / 50 {
                assert!(
                    limits
                        .admit(dms(&format!("bulk-{d}"), "org"), &fifty(d, b), 100)
                        .is_ok()
                );
            }
        }
    }

    #[test]
    fn a_dms_and_an_address_get_their_daily_share_and_no_more() {
        let limits = MailLimits::new(true, true, true, true, true);
        let fifty = |batch: usize| -> Vec<String> {
            (0..50).map(|i| format!("a{batch}-{i}@x.example")).collect()
        };
        for batch in 0..4 {
            assert!(
                limits
                    .admit(dms("dms-1", "org-1"), &fifty(batch), 100)
                    .is_ok()
            );
        }
        assert_eq!(
            limits.admit(dms("dms-1", "org-1"), &fifty(9), 100),
            Err(MailLimited::Dms)
        );
        assert!(limits.admit(dms("dms-2", "org-2"), &fifty(9), 100).is_ok());
        let one = vec!["v@x.example".to_owned()];
        let page = Cause::Page(None);
        for _ in 0..PER_ADDRESS {
            assert!(limits.admit(page, &one, 200).is_ok());
        }
        assert!(limits.admit(page, &one, 200).is_err());
        for _ in 0..PER_ADDRESS {
            assert!(limits.admit(dms("dms-3", "org-3"), &one, 200).is_ok());
        }
        assert!(limits.admit(dms("dms-3", "org-3"), &one, 200).is_err());
        assert!(limits.admit(dms("dms-4", "org-4"), &one, 200).is_ok());
        assert!(limits.admit(page, &one, 200 + WINDOW_SECONDS).is_ok());
    }
}

#[cfg(test)]
mod per_source {
    use super::*;

    fn from(last: u8) -> Cause<'static> {
        Cause::Page(Some(IpAddr::from([127, 0, 0, last])))
    }

    #[test]
    fn one_source_uses_up_its_share_of_an_addresss_sign_up_mails_and_no_more() {
        let limits = MailLimits::new(true, true, true, true, true);
        let one = vec!["newcomer@x.example".to_owned()];
        for _ in 0..PAGE_PER_ADDRESS_AND_SOURCE {
            assert!(limits.admit(from(2), &one, 100).is_ok());
        }
        assert_eq!(
            limits.admit(from(2), &one, 100),
            Err(MailLimited::AddressFromSource(one[0].clone()))
        );
        assert!(
            limits
                .admit(from(2), &["other@x.example".to_owned()], 100)
                .is_ok()
        );
        // The newcomer's own machine still gets codes, up to the address's bound over every
        // source.
        let mut source = 3;
        let mut sent = PAGE_PER_ADDRESS_AND_SOURCE;
        while sent < PER_ADDRESS {
            assert!(limits.admit(from(source), &one, 100).is_ok());
            sent += 1;
            if sent.is_multiple_of(PAGE_PER_ADDRESS_AND_SOURCE) {
                source += 1;
            }
        }
        assert_eq!(
            limits.admit(from(99), &one, 100),
            Err(MailLimited::Address(one[0].clone()))
        );
    }

    #[test]
    fn bounded_per_address_only_one_source_uses_up_the_addresss_mails() {
        let limits = MailLimits::new(true, true, true, true, false);
        let one = vec!["newcomer@x.example".to_owned()];
        for _ in 0..PER_ADDRESS {
            assert!(limits.admit(from(2), &one, 100).is_ok());
        }
        assert!(limits.admit(from(3), &one, 100).is_err());
    }
}
