//! Bytes on the tunnel socket as the cloud's end would send them (WebSocket frames that should
//! carry HTTP/2): the agent's tunnel ends cleanly once the cloud has gone, whatever they were.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use mocks::fuzzing::tunnel_survives;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    let ended = runtime().block_on(tunnel_survives(data, Duration::from_secs(5)));
    assert!(ended, "the tunnel hung on hostile bytes");
});
