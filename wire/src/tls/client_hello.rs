//! The ClientHello a scanner sends, shaped like testssl.sh's and sslyze's so that servers treat
//! it as they would a real client of that version.

use super::Version;
use super::codec::{prefixed, put_u16};
use super::extensions::{
    EC_POINT_FORMATS, EXTENDED_MASTER_SECRET, GROUPS, KEY_SHARE, PADDING, PSK_KEY_EXCHANGE_MODES,
    RENEGOTIATION_INFO, SERVER_NAME, SIGNATURE_ALGORITHMS, SIGNATURE_SCHEMES, SUPPORTED_GROUPS,
    SUPPORTED_VERSIONS, X25519, put_extension,
};
use super::noise::noise;
use super::records::{CLIENT_HELLO, HANDSHAKE, handshake, record};

/// What a probe offers in one hello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHelloSpec {
    /// The one version offered: a scanner asks about versions one at a time.
    pub version: Version,
    pub suites: Vec<u16>,
    pub sni: Option<String>,
}

/// Some servers (an F5 bug, RFC 7685) hang on hellos of 256 to 511 bytes, which would look
/// like a refusal; padding past that range avoids the false verdict.
const BUGGY_LENGTHS: std::ops::Range<usize> = 256..512;

/// The complete hello record, ready to write to a socket.
pub fn client_hello(spec: &ClientHelloSpec) -> Vec<u8> {
    let tls13 = spec.version == Version::Tls13;
    let legacy_version = if tls13 { Version::Tls12 } else { spec.version };
    let mut body = Vec::with_capacity(512);
    put_u16(&mut body, legacy_version.code());
    body.extend_from_slice(&noise::<32>());
    // TLS 1.3 middlebox compatibility (RFC 8446 §D.4) wants a non-empty session id.
    prefixed(&mut body, 1, |out| {
        if tls13 {
            out.extend_from_slice(&noise::<32>());
        }
    });
    prefixed(&mut body, 2, |out| {
        for &code in &spec.suites {
            put_u16(out, code);
        }
    });
    prefixed(&mut body, 1, |out| out.push(0));

    let mut extensions = extensions(spec);
    let message_len = 4 + body.len() + 2 + extensions.len();
    if BUGGY_LENGTHS.contains(&message_len) {
        let wanted = BUGGY_LENGTHS.end - message_len;
        // The padding extension's own 4-byte header counts towards the length.
        let data_len = wanted.checked_sub(4).filter(|&n| n > 0).unwrap_or(1);
        put_extension(&mut extensions, PADDING, |out| {
            out.resize(out.len() + data_len, 0);
        });
    }
    prefixed(&mut body, 2, |out| out.extend_from_slice(&extensions));

    let record_version = match spec.version {
        Version::Ssl30 => Version::Ssl30,
        _ => Version::Tls10,
    };
    record(
        HANDSHAKE,
        record_version.code(),
        &handshake(CLIENT_HELLO, &body),
    )
}

fn extensions(spec: &ClientHelloSpec) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    if let Some(name) = &spec.sni {
        put_extension(&mut out, SERVER_NAME, |out| {
            prefixed(out, 2, |list| {
                list.push(0); // host_name
                prefixed(list, 2, |host| host.extend_from_slice(name.as_bytes()));
            });
        });
    }
    put_extension(&mut out, SUPPORTED_GROUPS, |out| {
        prefixed(out, 2, |list| GROUPS.iter().for_each(|&g| put_u16(list, g)));
    });
    put_extension(&mut out, EC_POINT_FORMATS, |out| {
        prefixed(out, 1, |list| list.push(0)); // uncompressed
    });
    put_extension(&mut out, SIGNATURE_ALGORITHMS, |out| {
        prefixed(out, 2, |list| {
            SIGNATURE_SCHEMES.iter().for_each(|&s| put_u16(list, s));
        });
    });
    put_extension(&mut out, EXTENDED_MASTER_SECRET, |_| {});
    put_extension(&mut out, RENEGOTIATION_INFO, |out| out.push(0));
    if spec.version == Version::Tls13 {
        put_extension(&mut out, SUPPORTED_VERSIONS, |out| {
            prefixed(out, 1, |list| put_u16(list, Version::Tls13.code()));
        });
        put_extension(&mut out, PSK_KEY_EXCHANGE_MODES, |out| {
            prefixed(out, 1, |modes| modes.push(1)); // psk_dhe_ke
        });
        // Any 32 bytes are a valid x25519 public key, so a probe needs no key pair.
        put_extension(&mut out, KEY_SHARE, |out| {
            prefixed(out, 2, |shares| {
                put_u16(shares, X25519);
                prefixed(shares, 2, |key| key.extend_from_slice(&noise::<32>()));
            });
        });
    }
    out
}
