//! Extension code points and values shared by the hellos, and the walk over an extension block.

use super::WireError;
use super::codec::{Reader, prefixed, put_u16};

pub(crate) const SERVER_NAME: u16 = 0;
pub(crate) const SUPPORTED_GROUPS: u16 = 10;
pub(crate) const EC_POINT_FORMATS: u16 = 11;
pub(crate) const SIGNATURE_ALGORITHMS: u16 = 13;
pub(crate) const ALPN: u16 = 16;
pub(crate) const PADDING: u16 = 21;
pub(crate) const EXTENDED_MASTER_SECRET: u16 = 23;
pub(crate) const SUPPORTED_VERSIONS: u16 = 43;
pub(crate) const PSK_KEY_EXCHANGE_MODES: u16 = 45;
pub(crate) const KEY_SHARE: u16 = 51;
pub(crate) const RENEGOTIATION_INFO: u16 = 0xff01;

pub(crate) const X25519: u16 = 0x001d;
/// x25519 first: it is the only group whose key share may be any 32 bytes.
pub(crate) const GROUPS: [u16; 3] = [X25519, 0x0017, 0x0018];

/// Broad on purpose: a server must never refuse a probe because it missed a signature scheme.
pub(crate) const SIGNATURE_SCHEMES: [u16; 17] = [
    0x0403, // ecdsa_secp256r1_sha256
    0x0503, // ecdsa_secp384r1_sha384
    0x0603, // ecdsa_secp521r1_sha512
    0x0807, // ed25519
    0x0808, // ed448
    0x0804, // rsa_pss_rsae_sha256
    0x0805, // rsa_pss_rsae_sha384
    0x0806, // rsa_pss_rsae_sha512
    0x0809, // rsa_pss_pss_sha256
    0x080a, // rsa_pss_pss_sha384
    0x080b, // rsa_pss_pss_sha512
    0x0401, // rsa_pkcs1_sha256
    0x0501, // rsa_pkcs1_sha384
    0x0601, // rsa_pkcs1_sha512
    0x0201, // rsa_pkcs1_sha1
    0x0203, // ecdsa_sha1
    0x0202, // dsa_sha1, for the oldest servers a scanner must still reach
];

/// Appends one extension: type, then `body` behind a two-byte length.
pub(crate) fn put_extension(out: &mut Vec<u8>, extension: u16, body: impl FnOnce(&mut Vec<u8>)) {
    put_u16(out, extension);
    prefixed(out, 2, body);
}

/// Calls `visit` with each extension's type and body, in the order the peer sent them.
pub(crate) fn each_extension<'a>(
    mut block: Reader<'a>,
    mut visit: impl FnMut(u16, Reader<'a>) -> Result<(), WireError>,
) -> Result<(), WireError> {
    while !block.is_empty() {
        let extension = block.u16()?;
        let body = block.vec16()?;
        visit(extension, body)?;
    }
    Ok(())
}
