//! What a share's mail may carry of what its DMS supplied (MAIL-2). The DMS user's name and
//! message are plain text, bounded, with no link and no markup: a mail from dataminer.services
//! must not carry an attacker's link or page. The mail names who sent it as the cloud verified
//! it: the organisation the DMS was approved into and the DMS's ID, from its token, not from
//! anything the DMS wrote.

use super::dms_text::{is_identifier, is_plain};
use crate::world::{Fault, FaultSet};

/// The longest DMS user's name a share mail names.
const MAX_SENDER: usize = 64;
/// The longest personal message a share mail carries.
const MAX_MESSAGE: usize = 500;
/// The longest dashboard name a share mail names.
const MAX_DASHBOARD: usize = 128;
/// The longest share ID the cloud keeps.
const MAX_SHARE_ID: usize = 64;

/// What the DMS-supplied text of a share mail may be, settled once from the faults.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShareText {
    /// The user's name and message plain and bounded; otherwise (`cloud.mail-free-text`) any
    /// text of up to 2,000 characters, as a DMS writes it.
    checked: bool,
    /// The dashboard's name and the share's ID plain and bounded too; otherwise
    /// (`cloud.mail-dashboard-name-unchecked`) taken as the DMS wrote them, as names.
    names_checked: bool,
    /// Only printable ASCII and Latin letters; otherwise
    /// (`cloud.mail-text-compatibility-forms`) any character but a control one.
    strict: bool,
    /// A share's expiry must lie ahead; otherwise (`cloud.share-expiry-in-the-past`) a share
    /// that has already ended is mailed.
    expiry_ahead: bool,
    /// A share's ID begins and ends with a letter or digit, so it is no path segment a
    /// normaliser rewrites; otherwise (`cloud.share-id-dot-segments`) `.` and `..` pass.
    ids_as_segments: bool,
}

/// What a DMS announced for one share's mail.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShareFields<'a> {
    pub share_id: &'a str,
    pub dashboard: &'a str,
    pub shared_by: &'a str,
    pub message: Option<&'a str>,
}

/// Why a DMS-supplied text was refused: the error the DMS is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TextRefused {
    #[error("sender_too_long")]
    SenderTooLong,
    #[error("message_too_long")]
    MessageTooLong,
    #[error("dashboard_too_long")]
    DashboardTooLong,
    #[error("bad_share_id")]
    BadShareId,
    #[error("text_not_plain")]
    NotPlain,
    #[error("expiry_passed")]
    ExpiryPassed,
}

impl ShareText {
    pub fn from_faults(faults: &FaultSet) -> Self {
        Self {
            checked: !faults.is_on(Fault::CloudMailFreeText),
            names_checked: !faults.is_on(Fault::CloudMailDashboardNameUnchecked),
            strict: !faults.is_on(Fault::CloudMailTextCompatibilityForms),
            expiry_ahead: !faults.is_on(Fault::CloudShareExpiryInThePast),
            ids_as_segments: !faults.is_on(Fault::CloudShareIdDotSegments),
        }
    }

    /// Checks that a share expiring at `expires_at` has not ended by `now`: its links would be
    /// dead on arrival, and a mail for them only noise in the recipient's mailbox.
    pub fn check_expiry(&self, expires_at: Option<u64>, now: u64) -> Result<(), TextRefused> {
        match expires_at {
            Some(at) if self.expiry_ahead && at <= now => Err(TextRefused::ExpiryPassed),
            _ => Ok(()),
        }
    }

    /// Checks a share's ID as a DMS names it, announcing the share or withdrawing it: one
    /// rule for both routes.
    pub fn check_share_id(&self, share_id: &str) -> Result<(), TextRefused> {
        if self.names_checked && !is_identifier(share_id, MAX_SHARE_ID, self.ids_as_segments) {
            return Err(TextRefused::BadShareId);
        }
        Ok(())
    }

    /// Checks what a DMS announced for a share's mail.
    pub fn check(&self, fields: &ShareFields<'_>) -> Result<(), TextRefused> {
        self.check_share_id(fields.share_id)?;
        if self.names_checked {
            if fields.dashboard.chars().count() > MAX_DASHBOARD {
                return Err(TextRefused::DashboardTooLong);
            }
            if !is_plain(fields.dashboard, false, self.strict) {
                return Err(TextRefused::NotPlain);
            }
        }
        let (shared_by, message) = (fields.shared_by, fields.message);
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
        if !is_plain(shared_by, false, self.strict)
            || !message.is_none_or(|m| is_plain(m, true, self.strict))
        {
            return Err(TextRefused::NotPlain);
        }
        Ok(())
    }
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

    fn fields<'a>(shared_by: &'a str, message: Option<&'a str>) -> ShareFields<'a> {
        ShareFields {
            share_id: "share-1",
            dashboard: "core-network",
            shared_by,
            message,
        }
    }

    #[test]
    fn only_bounded_plain_text_without_links_or_markup_passes() {
        let text = ShareText::from_faults(&FaultSet::none());
        let (long_name, long_message) = ("a".repeat(65), "a".repeat(501));
        let check = |by, message| text.check(&fields(by, message));
        assert!(check("admin", Some("Weekly NOC view, as discussed.")).is_ok());
        assert!(check("J. Doe", Some("See e.g. the core routers; v2.1 is live.")).is_ok());
        for message in [
            "Log in at https://evil.example/login",
            "see evil.example/login now",
            "www.evil.example",
            "<a href=x>click</a>",
            "mailto:x@y.example",
            "contact support@evil.example",
            "ｅｖｉｌ．ｅｘａｍｐｌｅ/login",
            "evil。example",
        ] {
            assert_eq!(
                check("admin", Some(message)),
                Err(TextRefused::NotPlain),
                "{message}"
            );
        }
        assert_eq!(
            check("IT Support evil.example", None),
            Err(TextRefused::NotPlain)
        );
        assert_eq!(check(&long_name, None), Err(TextRefused::SenderTooLong));
        assert_eq!(
            check("admin", Some(&long_message)),
            Err(TextRefused::MessageTooLong)
        );
    }

    #[test]
    fn the_dashboard_name_and_share_id_are_checked_too() {
        let text = ShareText::from_faults(&FaultSet::none());
        let long = "d".repeat(129);
        let with = |share_id, dashboard| {
            text.check(&ShareFields {
                share_id,
                dashboard,
                shared_by: "admin",
                message: None,
            })
        };
        assert!(with("share-1", "Core network (NOC)").is_ok());
        assert_eq!(
            with(
                "share-1",
                "Expired.\n\nSign in at https://evil.example/login"
            ),
            Err(TextRefused::NotPlain)
        );
        assert_eq!(with("share-1", &long), Err(TextRefused::DashboardTooLong));
        assert_eq!(with("phish\r\n<b>", "x"), Err(TextRefused::BadShareId));
        for id in [".", "..", "share."] {
            assert_eq!(with(id, "x"), Err(TextRefused::BadShareId), "{id}");
            assert_eq!(
                text.check_share_id(id),
                Err(TextRefused::BadShareId),
                "{id}"
            );
        }
        let lax = ShareText::from_faults(&Fault::CloudShareIdDotSegments.into());
        assert_eq!(lax.check_share_id(".."), Ok(()));
    }
}
