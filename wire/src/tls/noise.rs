//! Bytes that only have to look random: a probe's hello randoms, session ids and key shares,
//! which protect nothing because no probe finishes a handshake. A non-cryptographic generator
//! keeps this crate free of a randomness dependency.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static CALLS: AtomicU64 = AtomicU64::new(0);

/// Fresh-looking bytes; two calls never return the same bytes within one process, so servers
/// that remember randoms do not see replays.
pub(crate) fn noise<const N: usize>() -> [u8; N] {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let mut state = nanos ^ call.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut out = [0u8; N];
    for chunk in out.chunks_mut(8) {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        for (byte, value) in chunk.iter_mut().zip(z.to_be_bytes()) {
            *byte = value;
        }
    }
    out
}
