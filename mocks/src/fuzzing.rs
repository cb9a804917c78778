//! Entry points for the fuzz targets in `fuzz/` (a cargo-fuzz project outside the workspace)
//! and the property tests: each reader of bytes a peer sent, callable on its own. Not an API.

pub use crate::agent::fuzzing::tunnel_survives;
pub use crate::cloud::fuzzing::{ConnectionEndpoint, FORM_PATHS};
pub use crate::dms::canonical::CanonicalCall;

fn head(verb: &str, content_type: Option<&str>) -> Result<http::request::Parts, String> {
    let mut builder = http::Request::builder().method(verb).uri("/");
    if let Some(content_type) = content_type {
        builder = builder.header(http::header::CONTENT_TYPE, content_type);
    }
    Ok(builder.body(()).map_err(|e| e.to_string())?.into_parts().0)
}

/// The DMA's reading of a call, in canonical form.
pub fn dma_request(
    verb: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<CanonicalCall, String> {
    let (method, fields) = crate::dma::read_request(&head(verb, content_type)?, path, body)
        .map_err(|e| e.to_string())?;
    crate::dms::canonical::canonical_call(&method, &fields).map_err(|e| e.to_string())
}

/// The WAF's reading of a call (its own reader), in canonical form.
pub fn waf_request(
    verb: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<CanonicalCall, String> {
    crate::waf::read_call(&head(verb, content_type)?, path, body)
}
