//! Any body on the cloud's OAuth and account endpoints (the first byte picks which): a 4xx
//! or a clean answer, never a server error.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mocks::fuzzing::{ConnectionEndpoint, FORM_PATHS};

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
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let path = FORM_PATHS[usize::from(pick) % FORM_PATHS.len()];
    let (runtime, endpoint) = endpoint();
    if let Some(status) = runtime.block_on(endpoint.form(path, body)) {
        assert!(status < 500, "{path} answered {status} to a malformed form");
    }
});
