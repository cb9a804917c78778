use wire::tls::{
    Event, ServerFlight, ServerHello, Version, alert, alert_name, alert_record, server_hello_record,
};

fn events(flight: &mut ServerFlight) -> Vec<Event> {
    let mut events = Vec::new();
    while let Some(event) = flight.next_event().expect("a well-formed flight") {
        events.push(event);
    }
    events
}

/// A handshake record holding the given messages, each `(type, body)`.
fn handshake_record(messages: &[(u8, &[u8])]) -> Vec<u8> {
    let mut payload = Vec::new();
    for (msg_type, body) in messages {
        payload.push(*msg_type);
        payload.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        payload.extend_from_slice(body);
    }
    let mut record = vec![22, 3, 3];
    record.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    record.extend_from_slice(&payload);
    record
}

fn certificate_body(chain: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for der in chain {
        list.extend_from_slice(&(der.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(der);
    }
    let mut body = (list.len() as u32).to_be_bytes()[1..].to_vec();
    body.extend_from_slice(&list);
    body
}

#[test]
fn every_version_of_server_hello_reads_back_as_chosen() {
    for version in Version::ALL {
        let mut flight = ServerFlight::new();
        flight.push(&server_hello_record(version, 0xc02b));
        let expected_legacy = version.min(Version::Tls12).code();
        assert_eq!(
            events(&mut flight),
            vec![Event::ServerHello(ServerHello {
                legacy_version: expected_legacy,
                selected_version: version.code(),
                cipher_suite: 0xc02b,
            })],
            "{version}"
        );
    }
}

#[test]
fn bytes_arriving_one_at_a_time_give_the_same_events() {
    let mut stream = server_hello_record(Version::Tls12, 0xc02f);
    stream.extend(handshake_record(&[
        (11, &certificate_body(&[b"leaf", b"ca"])),
        (14, &[]),
    ]));
    let mut flight = ServerFlight::new();
    let mut seen = Vec::new();
    for byte in &stream {
        flight.push(&[*byte]);
        seen.extend(events(&mut flight));
    }
    assert!(matches!(seen[0], Event::ServerHello(h) if h.cipher_suite == 0xc02f));
    assert_eq!(
        seen[1..],
        [
            Event::Certificate(vec![b"leaf".to_vec(), b"ca".to_vec()]),
            Event::ServerHelloDone
        ]
    );
}

#[test]
fn a_message_spanning_records_is_reassembled() {
    let whole = handshake_record(&[(11, &certificate_body(&[&[0xab; 300]]))]);
    let payload = &whole[5..];
    let mut flight = ServerFlight::new();
    for fragment in payload.chunks(100) {
        let mut record = vec![22, 3, 3, 0, fragment.len() as u8];
        record.extend_from_slice(fragment);
        flight.push(&record);
    }
    assert_eq!(
        events(&mut flight),
        vec![Event::Certificate(vec![vec![0xab; 300]])]
    );
}

#[test]
fn alerts_and_encrypted_records_are_reported_in_order() {
    let mut flight = ServerFlight::new();
    flight.push(&alert_record(0x0303, alert::FATAL, alert::PROTOCOL_VERSION));
    flight.push(&[20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 2, 0xde, 0xad]);
    assert_eq!(
        events(&mut flight),
        vec![
            Event::Alert {
                level: 2,
                description: 70
            },
            Event::ChangeCipherSpec,
            Event::ApplicationData,
        ]
    );
    assert_eq!(alert_name(70), "protocol_version");
    assert_eq!(alert_name(86), "inappropriate_fallback");
    assert_eq!(alert_name(255), "unknown");
}

#[test]
fn a_plaintext_http_answer_is_not_tls_and_ends_the_flight() {
    let mut flight = ServerFlight::new();
    flight.push(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    let events = events(&mut flight);
    let [Event::NotTls { first_bytes }] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert!(first_bytes.starts_with(b"HTTP/1.1 400"));
    flight.push(&server_hello_record(Version::Tls12, 0xc02f));
    assert_eq!(flight.next_event(), Ok(None));
}

#[test]
fn a_record_of_impossible_length_is_not_tls() {
    let mut flight = ServerFlight::new();
    flight.push(&[22, 3, 3, 0xff, 0xff]);
    assert!(matches!(
        flight.next_event(),
        Ok(Some(Event::NotTls { .. }))
    ));
}

#[test]
fn a_record_cut_short_stays_pending_and_yields_nothing() {
    let mut flight = ServerFlight::new();
    let whole = alert_record(0x0303, alert::FATAL, alert::HANDSHAKE_FAILURE);
    let cut = &whole[..whole.len() - 1];
    flight.push(cut);
    assert_eq!(flight.next_event(), Ok(None));
    assert_eq!(flight.pending_record(), cut);
    assert!(!flight.pending_message());
}

#[test]
fn a_handshake_message_cut_short_is_pending_inside_complete_records() {
    let hello = server_hello_record(Version::Tls12, 0xc02f);
    // The first half of the ServerHello message, re-framed as one complete record.
    let half = &hello[5..5 + (hello.len() - 5) / 2];
    let mut record = vec![22, 3, 3];
    record.extend_from_slice(&(half.len() as u16).to_be_bytes());
    record.extend_from_slice(half);
    let mut flight = ServerFlight::new();
    flight.push(&record);
    assert_eq!(flight.next_event(), Ok(None));
    assert!(flight.pending_record().is_empty());
    assert!(flight.pending_message());
}
