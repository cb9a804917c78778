//! How much mail the cloud sends (MAIL-2): per DMS and per address, in a rolling window. The
//! figures are the project's decision, as the spec names none: a DMS makes the cloud send at
//! most 200 mails a day (four shares of 50 addresses), and one address gets at most 10 mails
//! a day from each sender (a DMS, or the cloud's own pages), whatever their kind. The address
//! bound is counted per sender so that no tenant can use up another's: a DMS of another
//! organisation mailing an address ten times must not stop a real share reaching it. A batch
//! (one share's mails) is admitted whole or not at all, so a share never goes to part of its
//! list.

use std::collections::VecDeque;
use std::sync::Mutex;

const PER_DMS: usize = 200;
const PER_ADDRESS: usize = 10;
const WINDOW_SECONDS: u64 = 24 * 3600;

/// Why a batch of mail was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MailLimited {
    #[error("this DMS has had {PER_DMS} mails sent in the last 24 hours")]
    Dms,
    #[error("{0} has been sent {PER_ADDRESS} mails by this sender in the last 24 hours")]
    Address(String),
}

/// Who made the cloud send a mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause<'a> {
    /// A DMS, by its verified ID (a share's links).
    Dms(&'a str),
    /// Someone on the cloud's own pages (a sign-up code).
    Page,
}

#[derive(Debug)]
struct Sent {
    dms: Option<String>,
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
    sent: Mutex<VecDeque<Sent>>,
}

/// Whether `sent` came from the same sender as the batch: the same DMS, or the cloud's pages.
fn per_sender_only(sent: &Sent, dms: Option<&str>) -> bool {
    sent.dms.as_deref() == dms
}

impl MailLimits {
    /// Limits that hold when `enforced`; otherwise every batch is admitted.
    pub fn new(enforced: bool, per_sender: bool) -> Self {
        Self {
            enforced,
            per_sender,
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
        let dms = match cause {
            Cause::Dms(dms) => Some(dms),
            Cause::Page => None,
        };
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
            for address in to {
                let already = sent
                    .iter()
                    .filter(|s| {
                        s.to.eq_ignore_ascii_case(address)
                            && (per_sender_only(s, dms) || !self.per_sender)
                    })
                    .count();
                let in_batch = to
                    .iter()
                    .filter(|t| t.eq_ignore_ascii_case(address))
                    .count();
                if already + in_batch > PER_ADDRESS {
                    return Err(MailLimited::Address(address.clone()));
                }
            }
        }
        sent.extend(to.iter().map(|address| Sent {
            dms: dms.map(str::to_owned),
            to: address.clone(),
            at: now,
        }));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dms_and_an_address_get_their_daily_share_and_no_more() {
        let limits = MailLimits::new(true, true);
        let fifty = |batch: usize| -> Vec<String> {
            (0..50).map(|i| format!("a{batch}-{i}@x.example")).collect()
        };
        for batch in 0..4 {
            assert!(
                limits
                    .admit(Cause::Dms("dms-1"), &fifty(batch), 100)
                    .is_ok()
            );
        }
        assert_eq!(
            limits.admit(Cause::Dms("dms-1"), &fifty(9), 100),
            Err(MailLimited::Dms)
        );
        assert!(limits.admit(Cause::Dms("dms-2"), &fifty(9), 100).is_ok());
        let one = vec!["v@x.example".to_owned()];
        for _ in 0..PER_ADDRESS {
            assert!(limits.admit(Cause::Page, &one, 200).is_ok());
        }
        assert!(limits.admit(Cause::Page, &one, 200).is_err());
        for _ in 0..PER_ADDRESS {
            assert!(limits.admit(Cause::Dms("dms-3"), &one, 200).is_ok());
        }
        assert!(limits.admit(Cause::Dms("dms-3"), &one, 200).is_err());
        assert!(limits.admit(Cause::Dms("dms-4"), &one, 200).is_ok());
        assert!(
            limits
                .admit(Cause::Page, &one, 200 + WINDOW_SECONDS)
                .is_ok()
        );
    }
}
