//! The addresses a share is mailed to (MAIL-2): one spelling per mailbox, so that the bounds
//! per address count mailboxes, not spellings. Only a plain addr-spec is taken (RFC 5321's
//! `Local-part "@" Domain` with a conservative alphabet): no display name, no angle brackets,
//! no quoted local part, no list separator, no trailing dot on the domain; and it is kept in
//! lowercase, the one form the bounds count on. `<a@x.example>`, `"a"@x.example` and
//! `a@x.example.` reach the same mailbox as `a@x.example`, and `a@x.example;b@y.example` is two.

use crate::world::{Fault, FaultSet};

/// The longest address RFC 5321 §4.5.3.1 lets through a mail path (256 with its brackets).
const MAX_ADDRESS: usize = 254;
/// The longest local part (RFC 5321 §4.5.3.1.1).
const MAX_LOCAL: usize = 64;

/// How the addresses of a share are read, settled once from the faults.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AddressRule {
    /// Only canonical addr-specs; otherwise (`cloud.mail-address-not-canonical`) whatever
    /// holds an `@` with a dot after it, lowercased.
    canonical: bool,
}

impl AddressRule {
    pub fn new(canonical: bool) -> Self {
        Self { canonical }
    }

    pub fn from_faults(faults: &FaultSet) -> Self {
        Self::new(!faults.is_on(Fault::CloudMailAddressNotCanonical))
    }

    /// `address` (one, as typed on a page) in its canonical form, or `None` when it is not a
    /// plain address.
    pub fn one(&self, address: &str) -> Option<String> {
        let address = address.trim();
        if self.canonical {
            canonical(address)
        } else {
            plausible(address)
        }
    }

    /// The addresses of `list` (comma-separated) in their canonical form, or `None` when one
    /// of them is not a plain address.
    pub fn read(&self, list: &str) -> Option<Vec<String>> {
        list.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| {
                if self.canonical {
                    canonical(e)
                } else {
                    plausible(e)
                }
            })
            .collect()
    }
}

/// `address` in lowercase when it is a plain addr-spec.
pub(crate) fn canonical(address: &str) -> Option<String> {
    let lower = address.to_ascii_lowercase();
    let (local, domain) = lower.split_once('@')?;
    let local_ok = (1..=MAX_LOCAL).contains(&local.len())
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(&b))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()));
    (local_ok && domain_ok && lower.len() <= MAX_ADDRESS).then_some(lower)
}

/// The reading the fault keeps: an `@` with a dot after it and no white space.
fn plausible(address: &str) -> Option<String> {
    let lower = address.to_ascii_lowercase();
    (lower
        .split_once('@')
        .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
        && !lower.chars().any(|c| c.is_whitespace() || c.is_control()))
    .then_some(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_spelling_of_a_mailbox_is_taken() {
        let rule = AddressRule::new(true);
        assert_eq!(
            rule.read("Same@Partner.Example, b.c+d@x-y.example"),
            Some(vec![
                "same@partner.example".to_owned(),
                "b.c+d@x-y.example".to_owned()
            ])
        );
        for spelling in [
            "<same@partner.example>",
            "\"same\"@partner.example",
            "same@partner.example.",
            "same@partner.example;x@evil.example",
            "Same <same@partner.example>",
            "same@@partner.example",
            ".same@partner.example",
            "same@partner",
            "same@-partner.example",
        ] {
            assert_eq!(rule.read(spelling), None, "{spelling}");
        }
        let loose = AddressRule::new(false);
        assert!(loose.read("<same@partner.example>").is_some());
    }
}
