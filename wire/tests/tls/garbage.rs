//! Attacker-controlled bytes: whatever arrives, the readers answer and never panic.

use wire::tls::{
    ClientHelloSpec, Event, ServerFlight, TLS12_SUITES, Version, WireError, client_hello,
    parse_client_hello, server_hello_record,
};

use crate::Prng;

fn valid_hello() -> Vec<u8> {
    client_hello(&ClientHelloSpec {
        version: Version::Tls13,
        suites: TLS12_SUITES.iter().map(|s| s.code).collect(),
        sni: Some("probe.test".into()),
    })
}

/// A copy of `bytes` with a few bytes overwritten, inserted or removed.
fn mutate(bytes: &[u8], prng: &mut Prng) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for _ in 0..1 + prng.below(4) {
        let at = prng.below(out.len() + 1);
        match prng.below(3) {
            0 if at < out.len() => out[at] = prng.next_u64() as u8,
            1 => out.insert(at, prng.next_u64() as u8),
            _ if at < out.len() => {
                out.remove(at);
            }
            _ => {}
        }
    }
    out
}

fn drain(flight: &mut ServerFlight) {
    // Each call either consumes bytes, stops, or fails; a bound catches a reader that spins.
    for _ in 0..10_000 {
        match flight.next_event() {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return,
        }
    }
    panic!("the flight never ran out of events");
}

#[test]
fn every_truncation_of_a_hello_asks_for_more_bytes() {
    let hello = valid_hello();
    for end in 0..hello.len() {
        assert_eq!(
            parse_client_hello(&hello[..end]),
            Err(WireError::Truncated),
            "{end}"
        );
    }
    assert!(parse_client_hello(&hello).is_ok());
}

#[test]
fn mutated_hellos_never_panic_the_parser() {
    let hello = valid_hello();
    let mut prng = Prng::new(0x5eed_c11e);
    for _ in 0..20_000 {
        let _ = parse_client_hello(&mutate(&hello, &mut prng));
    }
}

#[test]
fn random_bytes_never_panic_either_reader() {
    let mut prng = Prng::new(42);
    for _ in 0..5_000 {
        let len = prng.below(64);
        let mut bytes: Vec<u8> = (0..len).map(|_| prng.next_u64() as u8).collect();
        // Half the time, look like a handshake record so the parsers get past the first byte.
        if prng.below(2) == 0 && bytes.len() >= 3 {
            bytes[..3].copy_from_slice(&[22, 3, 3]);
        }
        let _ = parse_client_hello(&bytes);
        let mut flight = ServerFlight::new();
        flight.push(&bytes);
        drain(&mut flight);
    }
}

#[test]
fn mutated_server_flights_never_panic_the_reader() {
    let mut stream = server_hello_record(Version::Tls12, 0xc02b);
    stream.extend_from_slice(&[22, 3, 3, 0, 14, 11, 0, 0, 10, 0, 0, 7, 0, 0, 4, 1, 2, 3, 4]);
    stream.extend_from_slice(&[22, 3, 3, 0, 4, 14, 0, 0, 0]);
    let mut whole = ServerFlight::new();
    whole.push(&stream);
    let mut events = Vec::new();
    while let Some(event) = whole.next_event().unwrap() {
        events.push(event);
    }
    assert_eq!(events.len(), 3);
    assert_eq!(events[1], Event::Certificate(vec![vec![1, 2, 3, 4]]));

    let mut prng = Prng::new(7);
    for _ in 0..20_000 {
        let mutated = mutate(&stream, &mut prng);
        let mut flight = ServerFlight::new();
        for chunk in mutated.chunks(1 + prng.below(16)) {
            flight.push(chunk);
            drain(&mut flight);
        }
    }
}
