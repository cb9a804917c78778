//! A server's answer to a probe's ClientHello, cut into the chunks a socket might yield: the
//! incremental reader and the probe's classifier judge it without panicking or spinning.
#![no_main]

use libfuzzer_sys::fuzz_target;
use probes::{Ending, classify};
use wire::tls::ServerFlight;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, answer)) = data.split_first() else {
        return;
    };
    let mut flight = ServerFlight::new();
    for chunk in answer.chunks(usize::from(cut).max(1)) {
        flight.push(chunk);
        // Each event consumes bytes, so a reader that returns more events than bytes spins.
        let mut events = 0;
        while let Ok(Some(_)) = flight.next_event() {
            events += 1;
            assert!(
                events <= answer.len() + 1,
                "the flight never runs out of events"
            );
        }
    }
    let _ = classify(answer, Ending::Closed);
    let _ = classify(answer, Ending::TimedOut);
});
