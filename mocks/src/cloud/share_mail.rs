//! What a share's mail may carry of what its DMS supplied (MAIL-2). The DMS user's name and
//! message are plain text, bounded, with no link and no markup: a mail from dataminer.services
//! must not carry an attacker's link or page. The mail names who sent it as the cloud verified
//! it: the organisation the DMS was approved into and the DMS's ID, from its token, not from
//! anything the DMS wrote.

use crate::world::{Fault, FaultSet};

/// The longest DMS user's name a share mail names.
const MAX_SENDER: usize = 64;
/// The longest personal message a share mail carries.
const MAX_MESSAGE: usize = 500;

/// What the DMS-supplied text of a share mail may be, settled once from the faults.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShareText {
    /// Plain and bounded; otherwise (`cloud.mail-free-text`) any text of up to 2,000
    /// characters, as a DMS writes it.
    checked: bool,
}

/// Why a DMS-supplied text was refused: the error the DMS is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TextRefused {
    #[error("sender_too_long")]
    SenderTooLong,
    #[error("message_too_long")]
    MessageTooLong,
    #[error("text_not_plain")]
    NotPlain,
}

impl ShareText {
    pub fn from_faults(faults: &FaultSet) -> Self {
        Self {
            checked: !faults.is_on(Fault::CloudMailFreeText),
        }
    }

    /// Checks the DMS user's name and message for a share mail.
    pub fn check(&self, shared_by: &str, message: Option<&str>) -> Result<(), TextRefused> {
        if !self.checked {
            return match message {
                Some(m) if m.chars().count() > 2000 => Err(TextRefused::MessageTooLong),
                _ => Ok(()),
            };
        }
        if shared_by.chars().count() > MAX_SENDER {
            return Err(TextRefused::SenderTooLong);
        }
        if message.is_some_and(|m| m.chars().count() > MAX_MESSAGE) {
            return Err(TextRefused::MessageTooLong);
        }
        if !is_plain(shared_by) || shared_by.contains('\n') || !message.is_none_or(is_plain) {
            return Err(TextRefused::NotPlain);
        }
        Ok(())
    }
}

/// Text with no markup, no link and nothing a mail reader would take for one: no angle
/// brackets, no `scheme:`, no `www.`, no word that reads as a host name, no control character
/// but a line break.
fn is_plain(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    if text
        .chars()
        .any(|c| c == '<' || c == '>' || (c.is_control() && c != '\n'))
        || lower.contains("://")
        || lower.contains("www.")
        || ["mailto:", "javascript:", "data:", "file:"]
            .iter()
            .any(|scheme| lower.contains(scheme))
    {
        return false;
    }
    !lower
        .split(|c: char| c.is_whitespace() || "()[]{}\"',;!?".contains(c))
        .any(reads_as_host)
}

/// A word like `evil.example`, `login.evil.example/x` or `x@evil.example` (which mail readers
/// turn into links too): a part of labels of letters, digits and hyphens joined by dots, the
/// last of two letters or more.
fn reads_as_host(word: &str) -> bool {
    word.split(['/', ':', '@']).any(is_host)
}

fn is_host(part: &str) -> bool {
    let host = part.trim_end_matches('.');
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

/// Who a share mail says sent it: the DMS user's name as the DMS gave it, with the verified
/// organisation and DMS beside it.
pub(crate) struct Attribution<'a> {
    pub shared_by: &'a str,
    pub organization: &'a str,
    pub dms_id: &'a str,
}

/// The subject and body of the mail that carries `link` to `email`.
pub(crate) fn compose(
    from: &Attribution<'_>,
    dashboard: &str,
    message: Option<&str>,
    email: &str,
    link: &str,
    ends: Option<String>,
) -> (String, String) {
    let subject = format!("{} shared a dashboard with you", from.shared_by);
    let mut body = format!(
        "{} of the organisation \"{}\" shared the dashboard \"{}\" with you on \
         dataminer.services, from their DataMiner System {}.\n\n",
        from.shared_by, from.organization, dashboard, from.dms_id
    );
    if let Some(message) = message {
        body.push_str(&format!(
            "Their message (their own words, not dataminer.services'):\n{message}\n\n"
        ));
    }
    body.push_str(&format!(
        "Open it here:\n{link}\n\nThe link opens with the dataminer.services account of {email}; \
         if you have none yet, you can create one for this address when you open it.\n"
    ));
    if let Some(at) = ends {
        body.push_str(&format!("The share ends on {at}.\n"));
    }
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bounded_plain_text_without_links_or_markup_passes() {
        let text = ShareText::from_faults(&FaultSet::none());
        assert!(
            text.check("admin", Some("Weekly NOC view, as discussed."))
                .is_ok()
        );
        assert!(
            text.check("J. Doe", Some("See e.g. the core routers; v2.1 is live."))
                .is_ok()
        );
        for message in [
            "Log in at https://evil.example/login",
            "see evil.example/login now",
            "www.evil.example",
            "<a href=x>click</a>",
            "mailto:x@y.example",
            "contact support@evil.example",
        ] {
            assert_eq!(
                text.check("admin", Some(message)),
                Err(TextRefused::NotPlain),
                "{message}"
            );
        }
        assert_eq!(
            text.check("IT Support evil.example", None),
            Err(TextRefused::NotPlain)
        );
        assert_eq!(
            text.check(&"a".repeat(65), None),
            Err(TextRefused::SenderTooLong)
        );
        assert_eq!(
            text.check("admin", Some(&"a".repeat(501))),
            Err(TextRefused::MessageTooLong)
        );
    }
}
