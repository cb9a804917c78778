//! A call as the WAF's own reader takes it, against the DMA's: no panic, and whatever the
//! WAF accepts the DMA reads as the same call (the WAF refuses what the two could read apart).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mocks::fuzzing::{dma_request, waf_request};

fuzz_target!(|data: &[u8]| {
    let path = "/API/v1/Json.asmx/GetParameter";
    let dma = dma_request("POST", path, Some("application/json"), data);
    if let Ok(waf) = waf_request("POST", path, Some("application/json"), data) {
        assert_eq!(
            dma.ok(),
            Some(waf),
            "the DMA reads a call the WAF accepts differently"
        );
    }
});
