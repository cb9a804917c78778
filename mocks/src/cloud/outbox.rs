//! The cloud's outgoing mail: every message it sends (share links, sign-up codes) lands here as
//! the mail server would hand it on, so a scenario reads what a recipient's mailbox would get.
//! Each is kept in the store's mail outbox too, without what would work for whoever reads the
//! store (a link's token, a sign-up code).

use std::sync::{Arc, Mutex};

use super::log::CloudLog;
use super::mail_limits::{Cause, MailLimited, MailLimits};
use super::store::{MailRecord, Store};
use crate::world::{Fault, FaultSet, random_token};

/// What stands in the stored copy of a mail for a value it withholds.
const WITHHELD: &str = "[withheld]";

/// One message as sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mail {
    pub from: String,
    /// The envelope sender (SMTP `MAIL FROM`, the `Return-Path` a mailbox shows): where
    /// bounces go, and what SPF and DMARC alignment are judged on.
    pub envelope_from: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub at_unix: u64,
}

/// The sender address the cloud's mails carry, settled once from the faults.
#[derive(Debug, Clone)]
pub(crate) struct MailPolicy {
    pub from: String,
    pub envelope_from: String,
    /// Whether mail per DMS and per address is limited (`mail_limits`).
    pub limited: bool,
    /// Whether an address's daily bound is counted per sender (a DMS, or the cloud's pages).
    pub per_sender: bool,
    /// Whether a DMS's mails count for its organisation, not only for the DMS.
    pub per_organisation: bool,
    /// Whether an organisation's DMSs together have a daily bound (`mail_limits`).
    pub organisation_day: bool,
    /// Whether a sign-up's mails to an address are also bounded per source (`mail_limits`).
    pub per_source: bool,
}

impl MailPolicy {
    pub fn from_faults(faults: &FaultSet) -> Self {
        Self {
            from: if faults.is_on(Fault::CloudMailFromOtherDomain) {
                "dataminer.services <no-reply@dataminer-mail.net>".to_owned()
            } else {
                "dataminer.services <no-reply@dataminer.services>".to_owned()
            },
            envelope_from: if faults.is_on(Fault::CloudMailEnvelopeOtherDomain) {
                // The mailing provider's default bounce domain, left as it came.
                "bounces+dms@em.dataminer-mail.net".to_owned()
            } else {
                "bounces@dataminer.services".to_owned()
            },
            limited: !faults.is_on(Fault::CloudMailUnlimited),
            per_sender: !faults.is_on(Fault::CloudMailAddressBoundShared),
            per_organisation: !faults.is_on(Fault::CloudMailBoundPerDms),
            organisation_day: !faults.is_on(Fault::CloudOrgDailyMailUnbounded),
            per_source: !faults.is_on(Fault::CloudSignupMailsBoundedPerAddressOnly),
        }
    }
}

/// Every mail the cloud sent, in order.
#[derive(Debug, Clone)]
pub struct Outbox {
    sent: Arc<Mutex<Vec<Mail>>>,
    policy: Arc<MailPolicy>,
    limits: Arc<MailLimits>,
    kept: Option<(Arc<Store>, CloudLog)>,
}

impl Outbox {
    pub(crate) fn new(policy: MailPolicy) -> Self {
        Self {
            sent: Arc::default(),
            limits: Arc::new(MailLimits::new(
                policy.limited,
                policy.per_sender,
                policy.per_organisation,
                policy.organisation_day,
                policy.per_source,
            )),
            policy: Arc::new(policy),
            kept: None,
        }
    }

    /// The same outbox, keeping each mail in `store` (a refusal is logged in `log`).
    pub(crate) fn kept_in(self, store: Arc<Store>, log: CloudLog) -> Self {
        Self {
            kept: Some((store, log)),
            ..self
        }
    }

    /// Counts one mail to each of `to` against the limits, before any is sent: the whole
    /// batch is admitted, or none of it.
    pub(crate) fn admit(
        &self,
        cause: Cause<'_>,
        to: &[String],
        now: u64,
    ) -> Result<(), MailLimited> {
        self.limits.admit(cause, to, now)
    }

    /// Sends a mail; its stored copy has each of `withheld` (the secrets it carries to its
    /// recipient alone) replaced.
    pub(crate) fn send(
        &self,
        to: &str,
        subject: String,
        body: String,
        at_unix: u64,
        withheld: &[&str],
    ) {
        let mail = Mail {
            from: self.policy.from.clone(),
            envelope_from: self.policy.envelope_from.clone(),
            to: to.to_owned(),
            subject,
            body,
            at_unix,
        };
        if let Some((store, log)) = &self.kept {
            let body = withheld
                .iter()
                .filter(|secret| !secret.is_empty())
                .fold(mail.body.clone(), |body, secret| {
                    body.replace(secret, WITHHELD)
                });
            let record = MailRecord {
                message_id: random_token(16),
                sender: mail.from.clone(),
                recipient: mail.to.clone(),
                subject: mail.subject.clone(),
                body,
                queued_at: at_unix,
            };
            if let Err(e) = store.put(&record) {
                // The mail still goes: the stored copy is the record of it, not its delivery.
                log.info(format!("mail to {to} not stored: {e}"));
            }
        }
        self.lock().push(mail);
    }

    pub fn all(&self) -> Vec<Mail> {
        self.lock().clone()
    }

    /// The mails sent to `address` (compared without regard to case), oldest first.
    pub fn to(&self, address: &str) -> Vec<Mail> {
        self.lock()
            .iter()
            .filter(|m| m.to.eq_ignore_ascii_case(address))
            .cloned()
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Mail>> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::cloud::vault::{KeyVault, VaultPolicy};
    use crate::world::Clock;

    #[test]
    fn each_mail_is_kept_without_the_secret_it_carries() {
        let faults = FaultSet::none();
        let clock = Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        let (vault, workloads) =
            KeyVault::provision(&VaultPolicy::from_faults(&faults), clock.unix_seconds());
        let store = Arc::new(
            Store::open(
                None,
                Arc::new(vault),
                workloads.token_service,
                clock.clone(),
                &faults,
            )
            .unwrap(),
        );
        let outbox = Outbox::new(MailPolicy::from_faults(&faults))
            .kept_in(store.clone(), CloudLog::new(clock));
        let body = "Open it here: https://sharing.example/s/tok-123\n".to_owned();
        outbox.send(
            "a@x.example",
            "Shared".into(),
            body.clone(),
            7,
            &["tok-123"],
        );
        assert_eq!(outbox.all()[0].body, body, "the recipient gets the link");
        let kept = store.all::<MailRecord>().unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].recipient, "a@x.example");
        assert_eq!(kept[0].queued_at, 7);
        assert!(!kept[0].body.contains("tok-123") && kept[0].body.contains(WITHHELD));
    }
}
