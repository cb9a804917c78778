//! The rule for text a DMS supplies that reaches a mail or a page (MAIL-2): its user's name, the
//! message, the dashboard's name, the share's ID, the DMS's own name. Plain text with no
//! markup, no link and nothing a mail reader would take for one.
//!
//! The characters are checked before the words: mail readers and browsers fold compatibility
//! forms (`ｅｖｉｌ．ｅｘａｍｐｌｅ`, `evil。example`) to ASCII before they make a link of them,
//! so a rule that reads only ASCII dots lets a link through. Rather than normalising (NFKC
//! needs tables this project does not carry), the text may hold printable ASCII and the
//! accented letters of the Latin blocks only, which none of those forms is.

/// Whether `c` may stand in a DMS's text: printable ASCII, a space, or a letter of the
/// Latin-1 Supplement and Latin Extended-A/B blocks (`Zoë`, `Łukasz`), which fold to nothing.
fn allowed(c: char) -> bool {
    c == ' ' || c.is_ascii_graphic() || (('\u{C0}'..='\u{24F}').contains(&c) && c.is_alphabetic())
}

/// Text with no markup, no link and nothing a mail reader would take for one: no angle
/// brackets, no `scheme:`, no `www.`, no word that reads as a host name; line breaks only
/// when `multiline`. When `strict`, only the characters [`allowed`] (otherwise any but a
/// control character: the rule that let compatibility forms through).
pub(crate) fn is_plain(text: &str, multiline: bool, strict: bool) -> bool {
    let character_ok =
        |c: char| (multiline && c == '\n') || if strict { allowed(c) } else { !c.is_control() };
    if !text.chars().all(character_ok) || text.contains(['<', '>']) {
        return false;
    }
    let lower = text.to_lowercase();
    if lower.contains("://")
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
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
        && labels
            .last()
            .is_some_and(|tld| tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
}

/// An identifier a DMS chooses (a share's ID): 1 to `max` letters, digits, `.`, `_` or `-`,
/// and not a host name. When `as_segment`, it also begins and ends with a letter or digit,
/// so it is never a path segment a URL or path normaliser rewrites: `.` and `..` (RFC 3986
/// §5.2.4 removes them, or the segment before), nor one with a trailing dot (`share.`, `...`,
/// which Windows paths drop), wherever the ID becomes part of a path or URL.
pub(crate) fn is_identifier(id: &str, max: usize, as_segment: bool) -> bool {
    let edge_ok = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    (1..=max).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && (!as_segment || (edge_ok(id.as_bytes().first()) && edge_ok(id.as_bytes().last())))
        && !reads_as_host(&id.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_forms_of_a_link_are_not_plain() {
        for text in [
            "ｅｖｉｌ．ｅｘａｍｐｌｅ/login",
            "evil。example/login",
            "evil．example",
            "evil｡example",
            "Sign in again\r\nat once",
            "tab\there",
        ] {
            assert!(!is_plain(text, true, true), "{text}");
        }
        assert!(is_plain("evil。example/login", false, false));
        for text in [
            "Zoë's NOC view",
            "Łukasz",
            "core-network v2.1",
            "Weekly, as discussed!",
        ] {
            assert!(is_plain(text, false, true), "{text}");
        }
        assert!(!is_plain("évil.example", false, true));
        assert!(!is_plain("two\nlines", false, true));
        assert!(is_plain("two\nlines", true, true));
    }

    #[test]
    fn identifiers_are_a_plain_alphabet_and_no_host() {
        assert!(is_identifier("share-3f9a1c", 64, true));
        assert!(is_identifier("v2.1", 64, true));
        for id in [
            "",
            "phish\r\nx",
            "a b",
            "<b>",
            "x.evil.example",
            &"a".repeat(65),
        ] {
            assert!(!is_identifier(id, 64, true), "{id:?}");
        }
    }

    #[test]
    fn identifiers_are_no_path_segment_a_normaliser_rewrites() {
        for id in [".", "..", "...", "share.", ".share", "-", "_x", "x-"] {
            assert!(!is_identifier(id, 64, true), "{id:?}");
            assert!(is_identifier(id, 64, false), "{id:?}");
        }
    }
}
