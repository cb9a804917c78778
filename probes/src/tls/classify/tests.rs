use wire::tls::{Version, alert, alert_record, server_hello_record};

use super::*;

fn fatal(description: u8) -> Vec<u8> {
    alert_record(0x0303, alert::FATAL, description)
}

fn verdict(answer: &[u8], ending: Ending) -> Verdict {
    classify(answer, ending).verdict
}

#[test]
fn a_fatal_protocol_version_alert_is_that_refusal() {
    let judged = classify(&fatal(alert::PROTOCOL_VERSION), Ending::Closed);
    assert_eq!(
        judged.verdict,
        Verdict::Refused(Refusal::ProtocolVersionAlert)
    );
    assert_eq!(judged.answer.to_string(), "alert fatal protocol_version");
}

#[test]
fn a_handshake_failure_alert_is_that_refusal_even_before_the_connection_ends() {
    let mut classifier = Classifier::default();
    let judged = classifier.push(&fatal(alert::HANDSHAKE_FAILURE));
    assert_eq!(
        judged.map(|j| j.verdict),
        Some(Verdict::Refused(Refusal::HandshakeFailureAlert))
    );
}

#[test]
fn any_other_alert_is_a_refusal_in_its_own_name() {
    let refused = verdict(&fatal(alert::INSUFFICIENT_SECURITY), Ending::TimedOut);
    assert_eq!(
        refused,
        Verdict::Refused(Refusal::Alert(alert::INSUFFICIENT_SECURITY))
    );
    assert_eq!(
        refused.refusal().map(|r| r.form()).as_deref(),
        Some("alert:insufficient_security")
    );
    assert_eq!(Refusal::Alert(201).form(), "alert:201");
}

#[test]
fn an_http_answer_is_not_tls_and_not_a_refusal() {
    let answer = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let judged = classify(answer, Ending::Closed);
    let Verdict::NotTls { first_bytes } = &judged.verdict else {
        panic!("{judged:?}");
    };
    assert!(first_bytes.starts_with(b"HTTP/1.1 400"), "{first_bytes:?}");
    assert!(first_bytes.len() <= EVIDENCE_LEN);
    assert!(!judged.verdict.is_refusal());
}

#[test]
fn a_close_without_a_byte_is_closed_before_server_hello() {
    assert_eq!(
        verdict(b"", Ending::Closed),
        Verdict::Refused(Refusal::ClosedBeforeServerHello)
    );
}

#[test]
fn silence_until_the_bound_is_no_answer_and_not_a_refusal() {
    let silent = verdict(b"", Ending::TimedOut);
    assert_eq!(silent, Verdict::NoAnswer);
    assert!(!silent.is_refusal());
}

#[test]
fn an_alert_record_cut_short_is_not_a_refusal_however_the_read_ends() {
    let whole = fatal(alert::PROTOCOL_VERSION);
    for cut in 1..whole.len() {
        for ending in [Ending::Closed, Ending::TimedOut] {
            let judged = verdict(&whole[..cut], ending);
            assert_eq!(
                judged,
                Verdict::NotTls {
                    first_bytes: whole[..cut].to_vec()
                },
                "{cut} bytes, {ending:?}"
            );
        }
    }
}

#[test]
fn an_alert_arriving_a_byte_at_a_time_is_judged_only_when_complete() {
    let whole = fatal(alert::PROTOCOL_VERSION);
    let mut classifier = Classifier::default();
    let (last, head) = whole.split_last().unwrap();
    for byte in head {
        assert_eq!(classifier.push(&[*byte]), None);
    }
    assert_eq!(
        classifier.push(&[*last]).map(|j| j.verdict),
        Some(Verdict::Refused(Refusal::ProtocolVersionAlert))
    );
}

#[test]
fn a_server_hello_is_accepted_with_what_it_chose() {
    let judged = classify(&server_hello_record(Version::Tls12, 0xc02f), Ending::Closed);
    let hello = judged.verdict.server_hello().copied().unwrap();
    assert_eq!(hello.selected_version, Version::Tls12.code());
    assert_eq!(hello.cipher_suite, 0xc02f);
    assert_eq!(
        judged.answer.to_string(),
        "ServerHello TLS 1.2, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    );
}

#[test]
fn a_warning_alert_refuses_only_when_nothing_follows() {
    let warning = alert_record(0x0303, alert::WARNING, alert::UNRECOGNIZED_NAME);
    assert_eq!(
        verdict(&warning, Ending::Closed),
        Verdict::Refused(Refusal::Alert(alert::UNRECOGNIZED_NAME))
    );
    let mut then_hello = warning;
    then_hello.extend(server_hello_record(Version::Tls12, 0xc02f));
    assert!(matches!(
        verdict(&then_hello, Ending::Closed),
        Verdict::Accepted(_)
    ));
}

#[test]
fn records_no_server_sends_first_are_unreadable_not_refusals() {
    let application_data = [23, 3, 3, 0, 2, 0xde, 0xad];
    let judged = verdict(&application_data, Ending::Closed);
    assert!(matches!(judged, Verdict::Unreadable { .. }), "{judged:?}");
    let hello = server_hello_record(Version::Tls12, 0xc02f);
    // The first half of the ServerHello message, re-framed as one complete record.
    let half = &hello[5..5 + (hello.len() - 5) / 2];
    let mut cut_message = vec![22, 3, 3];
    cut_message.extend_from_slice(&(half.len() as u16).to_be_bytes());
    cut_message.extend_from_slice(half);
    assert!(matches!(
        verdict(&cut_message, Ending::Closed),
        Verdict::Unreadable { .. }
    ));
}

#[test]
fn an_attempt_serializes_its_verdict_and_refusal_form() {
    let json = |v: &Verdict| serde_json::to_value(v).unwrap();
    assert_eq!(
        json(&Verdict::Refused(Refusal::ProtocolVersionAlert)),
        serde_json::json!({"verdict": "refused", "form": "protocol_version_alert"})
    );
    assert_eq!(
        json(&Verdict::Refused(Refusal::ClosedBeforeServerHello))["form"],
        "closed_before_server_hello"
    );
    assert_eq!(
        json(&Verdict::NotTls {
            first_bytes: b"HTTP".to_vec()
        }),
        serde_json::json!({"verdict": "not_tls"})
    );
    assert_eq!(
        json(&Verdict::NoAnswer),
        serde_json::json!({"verdict": "no_answer"})
    );
}
