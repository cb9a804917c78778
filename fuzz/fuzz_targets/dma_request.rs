//! A DataMiner Web Services call as the DMA reads it: the path up to the first newline, the
//! body after it. A call or a clean refusal, and the call's canonical form is stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mocks::fuzzing::dma_request;

fuzz_target!(|data: &[u8]| {
    let (path, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&b"/API/v1/Json.asmx/GetElement"[..], data),
    };
    let path = String::from_utf8_lossy(path);
    let _ = dma_request("POST", &path, Some("application/json"), body);
});
