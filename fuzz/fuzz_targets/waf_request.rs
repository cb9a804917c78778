//! A call as the WAF's own reader takes it, against the DMA's: no panic, and whatever the
//! DMA's strict reader accepts the WAF's reads as the same call (they differ only on
//! duplicated keys, which the strict reader refuses).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mocks::fuzzing::{dma_request, waf_request};

fuzz_target!(|data: &[u8]| {
    let path = "/API/v1/Json.asmx/GetParameter";
    let waf = waf_request("POST", path, Some("application/json"), data);
    if let Ok(dma) = dma_request("POST", path, Some("application/json"), data) {
        assert_eq!(
            waf.ok(),
            Some(dma),
            "the WAF reads a call the DMA accepts differently"
        );
    }
});
