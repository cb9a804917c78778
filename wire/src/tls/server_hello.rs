//! The ServerHello: the server's choice of version and suite, the evidence a scanner records.

use super::codec::{Reader, prefixed, put_u16};
use super::extensions::{
    EXTENDED_MASTER_SECRET, KEY_SHARE, RENEGOTIATION_INFO, SUPPORTED_VERSIONS, X25519,
    each_extension, put_extension,
};
use super::noise::noise;
use super::records::{HANDSHAKE, SERVER_HELLO, handshake, record};
use super::{Version, WireError};

/// What a server chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerHello {
    pub legacy_version: u16,
    /// The `supported_versions` value when present (how TLS 1.3 is chosen), else
    /// `legacy_version`.
    pub selected_version: u16,
    pub cipher_suite: u16,
}

pub(crate) fn parse_server_hello(body: &[u8]) -> Result<ServerHello, WireError> {
    let mut hello = Reader::new(body, "ServerHello field overruns the message");
    let legacy_version = hello.u16()?;
    hello.take(32)?; // random
    if hello.vec8()?.rest().len() > 32 {
        return Err(WireError::Malformed("session id longer than 32 bytes"));
    }
    let cipher_suite = hello.u16()?;
    hello.u8()?; // compression method
    let mut selected_version = legacy_version;
    // Servers of SSL 3.0 and early TLS may send no extension block at all.
    if !hello.is_empty() {
        each_extension(hello.vec16()?, |extension, mut data| {
            if extension == SUPPORTED_VERSIONS {
                selected_version = data.u16()?;
            }
            Ok(())
        })?;
    }
    Ok(ServerHello {
        legacy_version,
        selected_version,
        cipher_suite,
    })
}

/// A plausible ServerHello record choosing `version` and `suite`, for a mock that pretends to
/// accept whatever it is offered. It is a first message only: no handshake can follow it.
pub fn server_hello_record(version: Version, suite: u16) -> Vec<u8> {
    let tls13 = version == Version::Tls13;
    // TLS 1.3 hides behind TLS 1.2 on the wire and says what it is in an extension.
    let legacy_version = if tls13 { Version::Tls12 } else { version };
    let mut body = Vec::with_capacity(128);
    put_u16(&mut body, legacy_version.code());
    body.extend_from_slice(&noise::<32>());
    prefixed(&mut body, 1, |out| {
        if tls13 {
            out.extend_from_slice(&noise::<32>());
        }
    });
    put_u16(&mut body, suite);
    body.push(0); // null compression
    if version != Version::Ssl30 {
        prefixed(&mut body, 2, |out| {
            if tls13 {
                put_extension(out, SUPPORTED_VERSIONS, |v| put_u16(v, version.code()));
                put_extension(out, KEY_SHARE, |share| {
                    put_u16(share, X25519);
                    prefixed(share, 2, |key| key.extend_from_slice(&noise::<32>()));
                });
            } else {
                put_extension(out, RENEGOTIATION_INFO, |info| info.push(0));
                put_extension(out, EXTENDED_MASTER_SECRET, |_| {});
            }
        });
    }
    record(
        HANDSHAKE,
        legacy_version.code(),
        &handshake(SERVER_HELLO, &body),
    )
}
