//! Certificate chains as a person reads them. A server sent these bytes, so a certificate
//! that does not parse is reported as such rather than failing the probe.

use std::net::IpAddr;

use x509_parser::prelude::{ASN1Time, GeneralName, X509Certificate, parse_x509_certificate};

use super::CertificateSummary;

pub(crate) fn summarise(der: &[u8]) -> CertificateSummary {
    match parse_x509_certificate(der) {
        Ok((_, certificate)) => CertificateSummary {
            subject: certificate.subject().to_string(),
            issuer: certificate.issuer().to_string(),
            sans: sans(&certificate),
            not_before: rfc3339(&certificate.validity().not_before),
            not_after: rfc3339(&certificate.validity().not_after),
        },
        Err(error) => CertificateSummary {
            subject: format!("unreadable certificate of {} bytes: {error}", der.len()),
            issuer: String::new(),
            sans: Vec::new(),
            not_before: String::new(),
            not_after: String::new(),
        },
    }
}

fn sans(certificate: &X509Certificate<'_>) -> Vec<String> {
    let extension = match certificate.subject_alternative_name() {
        Ok(Some(extension)) => extension,
        Ok(None) => return Vec::new(),
        Err(error) => return vec![format!("unreadable subjectAltName: {error}")],
    };
    extension
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some(format!("DNS:{dns}")),
            GeneralName::IPAddress(bytes) => Some(match ip(bytes) {
                Some(address) => format!("IP:{address}"),
                None => format!("IP:unreadable ({} bytes)", bytes.len()),
            }),
            _ => None,
        })
        .collect()
}

fn ip(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(IpAddr::from(v4));
    }
    <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from)
}

fn rfc3339(time: &ASN1Time) -> String {
    let t = time.to_datetime();
    let offset = t.offset();
    let zone = if offset.is_utc() {
        "Z".to_owned()
    } else {
        let (hours, minutes, _) = offset.as_hms();
        format!("{hours:+03}:{:02}", minutes.unsigned_abs())
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
