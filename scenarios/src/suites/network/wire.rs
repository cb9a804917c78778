//! The scenario side's own readings of the wire: which names are dataminer.services', and
//! whether a byte stream is TLS records and nothing else (RFC 5246 §6.2.1).

use serde::Serialize;

/// The largest TLSCiphertext fragment RFC 5246 §6.2.3 allows: 2^14 + 2048.
const MAX_FRAGMENT: usize = (1 << 14) + 2048;

/// Whether `host` is `domain` itself or a name under it, on a label boundary.
pub(super) fn is_under(host: &str, domain: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let domain = domain.to_ascii_lowercase();
    host == domain
        || host
            .strip_suffix(&domain)
            .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1)
}

/// Where a byte stream stopped being TLS records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct NotTls {
    pub offset: usize,
    pub reason: &'static str,
    /// The bytes from there on, as text where they are printable.
    pub there: String,
}

/// Reads `bytes` as a run of TLS records: content types 20–23, record version 3.1–3.3, a
/// length within the bound. The last record may be cut short (a capture of a connection still
/// open), but what is there of it must fit its header.
pub(super) fn tls_records_only(bytes: &[u8]) -> Result<usize, NotTls> {
    let mut offset = 0;
    let mut records = 0;
    while offset < bytes.len() {
        let header = &bytes[offset..bytes.len().min(offset + 5)];
        let fail = |reason| NotTls {
            offset,
            reason,
            there: String::from_utf8_lossy(&bytes[offset..bytes.len().min(offset + 80)])
                .into_owned(),
        };
        if !(20..=23).contains(&header[0]) {
            return Err(fail("not a TLS content type"));
        }
        if header.len() >= 2 && header[1] != 3 {
            return Err(fail("not a TLS record version"));
        }
        if header.len() >= 3 && !(1..=3).contains(&header[2]) {
            return Err(fail("not a TLS record version"));
        }
        if header.len() < 5 {
            break;
        }
        let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if length == 0 || length > MAX_FRAGMENT {
            return Err(fail("record length out of bounds"));
        }
        offset += 5 + length;
        records += 1;
    }
    Ok(records)
}

/// The secrets in `secrets` that occur in `bytes`, raw.
pub(super) fn secrets_in<'a>(bytes: &[u8], secrets: &'a [String]) -> Vec<&'a str> {
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .filter(|s| bytes.windows(s.len()).any(|w| w == s.as_bytes()))
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_domain_on_a_label_boundary_only() {
        let domain = "dataminer.services";
        assert!(is_under("tunnel.dataminer.services", domain));
        assert!(is_under("Connection.DataMiner.Services.", domain));
        assert!(is_under("dataminer.services", domain));
        assert!(!is_under("xdataminer.services", domain));
        assert!(!is_under("dataminer.services.evil.example", domain));
        assert!(!is_under(".dataminer.services", domain));
    }

    #[test]
    fn tls_records_pass_and_plaintext_fails_where_it_starts() {
        let mut stream = vec![22, 3, 1, 0, 2, 1, 0];
        stream.extend([23, 3, 3, 0, 1, 0xaa]);
        assert_eq!(tls_records_only(&stream), Ok(2));
        // A record cut short by the capture still reads.
        assert_eq!(tls_records_only(&[23, 3, 3, 0, 9, 1]), Ok(1));
        let plain = b"POST /oauth/device HTTP/1.1\r\n";
        assert_eq!(tls_records_only(plain).unwrap_err().offset, 0);
        stream.extend_from_slice(plain);
        assert_eq!(tls_records_only(&stream).unwrap_err().offset, 13);
        assert!(tls_records_only(&[23, 3, 3, 0x50, 0]).is_err());
    }

    #[test]
    fn secrets_are_found_raw() {
        let secrets = vec!["CANARY-1".to_owned(), String::new(), "pw".to_owned()];
        assert_eq!(secrets_in(b"..CANARY-1..", &secrets), vec!["CANARY-1"]);
    }
}
