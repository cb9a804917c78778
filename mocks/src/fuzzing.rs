//! Entry points for the fuzz targets in `fuzz/` (a cargo-fuzz project outside the workspace)
//! and the property tests: each reader of bytes a peer sent, callable on its own. Not an API.

pub use crate::agent::fuzzing::tunnel_survives;
pub use crate::cloud::fuzzing::{ConnectionEndpoint, FORM_PATHS};
pub use crate::dma::canonical::{CanonicalCall, ReadError};

use crate::dma::canonical::{canonical_call, read_request};
use crate::waf::loose::read_request_first_wins;

/// The DMA's reading of a call (the WAF's too, as it reads by default).
pub fn dma_request(
    verb: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<CanonicalCall, ReadError> {
    let (method, body) = read_request(verb, path, content_type, body)?;
    canonical_call(method, &body)
}

/// The WAF's own reader (the `waf.first-duplicate-key-wins` policy's).
pub fn waf_request(
    verb: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<CanonicalCall, ReadError> {
    let (method, body) = read_request_first_wins(verb, path, content_type, body)?;
    canonical_call(method, &body)
}
