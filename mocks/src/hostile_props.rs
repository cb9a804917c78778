//! Hostile input to every reader that faces a peer, drawn at random but reproducibly (ChaCha,
//! fixed seed, whatever `PROPTEST_RNG_SEED` says; failures persisted under
//! `proptest-regressions/`): malformed input gets a clean refusal and the reader keeps
//! serving. The fuzz targets in `fuzz/` drive the same entry points for longer.

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, RngSeed};
use wire::tls::{Event, ServerFlight, Version, alert_record, server_hello_record};

use crate::fuzzing::{ConnectionEndpoint, FORM_PATHS, dma_request, waf_request};

fn config(cases: u32, file: &'static str) -> Config {
    Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x0057_11E5),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..Config::default()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a test runtime")
}

/// Bytes that look like a compact JWS often enough to get past the first checks.
fn token() -> impl Strategy<Value = Vec<u8>> {
    let segment = "[A-Za-z0-9_=+/-]{0,48}";
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        (segment, segment, segment).prop_map(|(h, p, s)| format!("{h}.{p}.{s}").into_bytes()),
        // A real header (`{"alg":"HS256","typ":"JWT"}`) in front of anything.
        ("[A-Za-z0-9_-]{0,96}", "[A-Za-z0-9_-]{0,64}").prop_map(|(p, s)| {
            format!("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{p}.{s}").into_bytes()
        }),
    ]
}

/// A JSON-ish body: real objects of the parameters a call carries, duplicated keys and all,
/// or any text.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let name = select(
        &[
            "dmaID",
            "elementID",
            "parameterID",
            "connection",
            "login",
            "user_code",
            "grant_type",
            "device_code",
            "refresh_token",
            "client_id",
            "dms_id",
            "email",
            "password",
            "é",
        ][..],
    );
    let value = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        "[ -~]{0,12}".prop_map(|s| serde_json::Value::String(s).to_string()),
        Just("null".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        Just("\"urn:ietf:params:oauth:grant-type:device_code\"".to_owned()),
    ];
    prop_oneof![
        proptest::collection::vec((name, value), 0..6).prop_map(|members| {
            let members: Vec<String> = members
                .into_iter()
                .map(|(n, v)| format!("{:?}:{v}", n))
                .collect();
            format!("{{{}}}", members.join(",")).into_bytes()
        }),
        proptest::collection::vec(any::<u8>(), 0..128),
        "[\\[\\]{}\":,0-9a-z ]{0,64}".prop_map(String::into_bytes),
    ]
}

/// Events as judged, without the evidence bytes of a non-TLS answer (how many of them are
/// kept depends on how much had arrived).
fn events(flight: &mut ServerFlight, into: &mut Vec<String>) -> bool {
    loop {
        match flight.next_event() {
            Ok(Some(Event::NotTls { .. })) => into.push("not TLS".into()),
            Ok(Some(event)) => into.push(format!("{event:?}")),
            Ok(None) => return true,
            Err(error) => {
                into.push(format!("error: {error}"));
                return false;
            }
        }
    }
}

proptest! {
    #![proptest_config(config(64, "proptest-regressions/hostile-bearer.txt"))]
    #[test]
    fn any_bytes_as_a_bearer_token_are_refused_as_invalid(token in token()) {
        let endpoint = ConnectionEndpoint::new();
        let status = runtime().block_on(endpoint.bearer(&token));
        // `None`: not even a header value, refused before the cloud sees it.
        prop_assert!(matches!(status, None | Some(401)), "answered {:?}", status);
    }
}

proptest! {
    #![proptest_config(config(96, "proptest-regressions/hostile-oauth-forms.txt"))]
    #[test]
    fn any_body_on_an_oauth_endpoint_gets_an_answer_that_is_not_a_server_error(
        path in select(FORM_PATHS),
        body in body(),
    ) {
        let endpoint = ConnectionEndpoint::new();
        let runtime = runtime();
        let status = runtime.block_on(endpoint.form(path, &body));
        prop_assert!(status.is_some_and(|s| s < 500), "{} answered {:?}", path, status);
        // And it goes on serving: a well-formed request after it is answered too.
        let after = runtime.block_on(endpoint.form("/oauth/token", br#"{"grant_type":"x"}"#));
        prop_assert_eq!(after, Some(400));
    }
}

proptest! {
    #![proptest_config(config(256, "proptest-regressions/hostile-call-readers.txt"))]
    #[test]
    fn every_call_the_waf_accepts_the_dma_reads_as_the_same_call(
        verb in select(&["POST", "GET", "post"][..]),
        path in prop_oneof![
            Just("/API/v1/Json.asmx/GetParameter".to_owned()),
            "/API/v1/Json.asmx/[A-Za-z%./?;]{0,12}",
            "[ -~]{0,24}",
        ],
        content_type in proptest::option::of(select(&[
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON;charset=UTF-8",
            "text/plain",
            "application/json; charset=latin1",
        ][..])),
        body in body(),
    ) {
        let dma = dma_request(verb, &path, content_type, &body);
        let waf = waf_request(verb, &path, content_type, &body);
        if let Ok(call) = &waf {
            prop_assert!(call.method.bytes().all(|b| b.is_ascii_alphabetic()));
            prop_assert_eq!(dma.as_ref().ok(), Some(call));
        }
    }
}

proptest! {
    #![proptest_config(config(256, "proptest-regressions/hostile-server-flight.txt"))]
    #[test]
    fn a_server_answer_reads_the_same_however_the_socket_cuts_it(
        prefix in select(&[0usize, 1, 2][..]),
        noise in proptest::collection::vec(any::<u8>(), 0..96),
        flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..3),
        cuts in proptest::collection::vec(1usize..64, 1..8),
    ) {
        let mut answer = match prefix {
            0 => server_hello_record(Version::Tls12, 0xc02f),
            1 => alert_record(0x0303, 2, 70),
            _ => Vec::new(),
        };
        answer.extend_from_slice(&noise);
        for (at, byte) in &flips {
            if !answer.is_empty() {
                let at = at.index(answer.len());
                answer[at] = *byte;
            }
        }
        let mut whole = Vec::new();
        let mut flight = ServerFlight::new();
        flight.push(&answer);
        events(&mut flight, &mut whole);

        let mut cut = Vec::new();
        let mut flight = ServerFlight::new();
        let mut rest = answer.as_slice();
        for len in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, after) = rest.split_at((*len).min(rest.len()));
            flight.push(chunk);
            rest = after;
            if !events(&mut flight, &mut cut) {
                break;
            }
        }
        // A reader that judges a record before it is whole would differ here.
        prop_assert_eq!(&cut, &whole);
        let _ = probes::classify(&answer, probes::Ending::Closed);
    }
}
