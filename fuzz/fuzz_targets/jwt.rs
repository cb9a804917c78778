//! Any bytes as a bearer token on the cloud's connection endpoint: a clean refusal, never a
//! success and never a server error.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mocks::fuzzing::ConnectionEndpoint;

fn endpoint() -> &'static (tokio::runtime::Runtime, ConnectionEndpoint) {
    static ENDPOINT: OnceLock<(tokio::runtime::Runtime, ConnectionEndpoint)> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        (runtime, ConnectionEndpoint::new())
    })
}

fuzz_target!(|data: &[u8]| {
    let (runtime, endpoint) = endpoint();
    if let Some(status) = runtime.block_on(endpoint.bearer(data)) {
        assert_eq!(
            status, 401,
            "a token of arbitrary bytes must be refused as invalid"
        );
    }
});
