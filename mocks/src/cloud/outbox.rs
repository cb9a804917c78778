//! The cloud's outgoing mail: every message it sends (share links, sign-up codes) lands here as
//! the mail server would hand it on, so a scenario reads what a recipient's mailbox would get.

use std::sync::{Arc, Mutex};

use crate::world::{Fault, FaultSet};

/// One message as sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mail {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub at_unix: u64,
}

/// The sender address the cloud's mails carry, settled once from the faults.
#[derive(Debug, Clone)]
pub(crate) struct MailPolicy {
    pub from: String,
}

impl MailPolicy {
    pub fn from_faults(faults: &FaultSet) -> Self {
        Self {
            from: if faults.is_on(Fault::CloudMailFromOtherDomain) {
                "dataminer.services <no-reply@dataminer-mail.net>".to_owned()
            } else {
                "dataminer.services <no-reply@dataminer.services>".to_owned()
            },
        }
    }
}

/// Every mail the cloud sent, in order.
#[derive(Debug, Clone)]
pub struct Outbox {
    sent: Arc<Mutex<Vec<Mail>>>,
    policy: Arc<MailPolicy>,
}

impl Outbox {
    pub(crate) fn new(policy: MailPolicy) -> Self {
        Self {
            sent: Arc::default(),
            policy: Arc::new(policy),
        }
    }

    pub(crate) fn send(&self, to: &str, subject: String, body: String, at_unix: u64) {
        self.lock().push(Mail {
            from: self.policy.from.clone(),
            to: to.to_owned(),
            subject,
            body,
            at_unix,
        });
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
