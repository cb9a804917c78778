//! A client's first flight as the cloud's listener reads it: a ClientHello or a clean error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::tls::parse_client_hello;

fuzz_target!(|data: &[u8]| {
    if let Ok(hello) = parse_client_hello(data) {
        let _ = hello.offered_versions();
    }
});
