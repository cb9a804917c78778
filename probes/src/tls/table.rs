//! The report as a person reads it in a terminal.

use std::fmt::Write;

use super::{Premise, TlsReport, Verdict, VersionResult};

/// A plain-text table: versions with the answer behind each verdict, accepted TLS 1.2 suites
/// (`!` marks those that are not forward-secret AEAD), and the certificate chain. When the
/// endpoint does not speak TLS, or never answered, one line at the top says so first.
pub fn render_table(report: &TlsReport) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail; the results are ignored for that reason only.
    match report.premise {
        Premise::Tls => {}
        Premise::NotTls => {
            let evidence = report.not_tls_evidence().unwrap_or_default();
            let _ = writeln!(
                out,
                "{} does not speak TLS: it answered \"{evidence}\"\n",
                report.target
            );
        }
        Premise::NoAnswer => {
            let _ = writeln!(
                out,
                "{} gave no answer: nothing came back to any ClientHello before the read timeout\n",
                report.target
            );
        }
    }
    let sni = report.sni.as_deref().unwrap_or("none");
    let _ = writeln!(
        out,
        "TLS probe of {} ({}), SNI {sni}\n",
        report.target, report.address
    );

    let _ = writeln!(out, "PROTOCOL VERSIONS");
    for v in &report.versions {
        let _ = writeln!(
            out,
            "  {:<8} {:<11} {}",
            v.version.name(),
            word(v),
            v.answer
        );
    }

    let _ = writeln!(
        out,
        "\nTLS 1.2 CIPHER SUITES ACCEPTED (! = not forward-secret AEAD)"
    );
    let accepted = report.accepted_suites();
    if report.tls12_suites.is_empty() {
        let why = match report
            .versions
            .iter()
            .find(|v| v.version == wire::tls::Version::Tls12)
            .map(|v| &v.verdict)
        {
            Some(Verdict::Refused(_)) => "TLS 1.2 was refused",
            Some(Verdict::Accepted(_)) => "the server chose another version than TLS 1.2",
            Some(Verdict::NotTls { .. }) => "the answer to TLS 1.2 was not TLS",
            Some(Verdict::NoAnswer) => "TLS 1.2 got no answer",
            Some(Verdict::Unreadable { .. }) => "the answer to TLS 1.2 was unreadable",
            None => "TLS 1.2 was not offered",
        };
        let _ = writeln!(out, "  not tried: {why}");
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

/// The verdict on one version in a word or two.
fn word(v: &VersionResult) -> &'static str {
    match &v.verdict {
        Verdict::Accepted(_) if v.accepted => "accepted",
        // A ServerHello for another version than the one offered.
        Verdict::Accepted(_) => "not chosen",
        Verdict::Refused(_) => "refused",
        Verdict::NotTls { .. } => "not TLS",
        Verdict::NoAnswer => "no answer",
        Verdict::Unreadable { .. } => "unreadable",
    }
}
