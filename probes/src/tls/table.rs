//! The report as a person reads it in a terminal.

use std::fmt::Write;

use super::TlsReport;

/// A plain-text table: versions with the answer behind each verdict, accepted TLS 1.2 suites
/// (`!` marks those that are not forward-secret AEAD), and the certificate chain.
pub fn render_table(report: &TlsReport) -> String {
    let mut out = String::new();
    let sni = report.sni.as_deref().unwrap_or("none");
    // Writing to a String cannot fail; the results are ignored for that reason only.
    let _ = writeln!(
        out,
        "TLS probe of {} ({}), SNI {sni}\n",
        report.target, report.address
    );

    let _ = writeln!(out, "PROTOCOL VERSIONS");
    for v in &report.versions {
        let verdict = if v.accepted { "accepted" } else { "refused" };
        let _ = writeln!(out, "  {:<8} {verdict:<9} {}", v.version.name(), v.answer);
    }

    let _ = writeln!(
        out,
        "\nTLS 1.2 CIPHER SUITES ACCEPTED (! = not forward-secret AEAD)"
    );
    let accepted = report.accepted_suites();
    if report.tls12_suites.is_empty() {
        let _ = writeln!(out, "  not tried: TLS 1.2 was refused");
    } else if accepted.is_empty() {
        let tried = report.tls12_suites.len();
        let _ = writeln!(out, "  none of the {tried} tried alone");
    }
    for suite in accepted {
        let marker = if suite.forward_secret_aead { ' ' } else { '!' };
        let _ = writeln!(out, "  {marker} 0x{:04x}  {}", suite.code, suite.name);
    }

    let _ = writeln!(out, "\nCERTIFICATE CHAIN (as sent, leaf first)");
    if report.certificates.is_empty() {
        let _ = writeln!(
            out,
            "  none seen: only a TLS 1.2 or older handshake shows it in the clear"
        );
    }
    for (i, certificate) in report.certificates.iter().enumerate() {
        let _ = writeln!(out, "  [{i}] subject  {}", certificate.subject);
        let _ = writeln!(out, "      issuer   {}", certificate.issuer);
        if !certificate.sans.is_empty() {
            let _ = writeln!(out, "      SANs     {}", certificate.sans.join(", "));
        }
        let _ = writeln!(
            out,
            "      valid    {} to {}",
            certificate.not_before, certificate.not_after
        );
    }
    out
}
