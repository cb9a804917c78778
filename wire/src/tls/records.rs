//! Records and handshake-message framing: the two layers every TLS message travels in.

use super::WireError;
use super::codec::put_u16;

pub(crate) const CHANGE_CIPHER_SPEC: u8 = 20;
pub(crate) const ALERT: u8 = 21;
pub(crate) const HANDSHAKE: u8 = 22;
pub(crate) const APPLICATION_DATA: u8 = 23;

pub(crate) const CLIENT_HELLO: u8 = 1;
pub(crate) const SERVER_HELLO: u8 = 2;
pub(crate) const CERTIFICATE: u8 = 11;
pub(crate) const SERVER_HELLO_DONE: u8 = 14;

pub(crate) const HEADER_LEN: usize = 5;
/// The largest plaintext fragment (RFC 8446 §5.1); handshake records are plaintext.
pub(crate) const MAX_PLAINTEXT: usize = 1 << 14;
/// The largest record of any kind (RFC 5246 §6.2.3: ciphertext may expand by 2048).
pub(crate) const MAX_RECORD: usize = MAX_PLAINTEXT + 2048;
/// Certificate chains reach tens of kilobytes; a peer declaring more is not worth buffering.
const MAX_HANDSHAKE: usize = 1 << 19;

/// One complete record at the start of a byte stream.
#[derive(Debug)]
pub(crate) struct Record<'a> {
    pub(crate) content_type: u8,
    pub(crate) version: u16,
    pub(crate) payload: &'a [u8],
}

/// The first record of `bytes` and the bytes after it, or `None` while it is incomplete.
pub(crate) fn split_record(bytes: &[u8]) -> Option<(Record<'_>, &[u8])> {
    let (header, rest) = bytes.split_first_chunk::<HEADER_LEN>()?;
    let [content_type, major, minor, high, low] = *header;
    let length = usize::from(u16::from_be_bytes([high, low]));
    let (payload, rest) = rest.split_at_checked(length)?;
    let record = Record {
        content_type,
        version: u16::from_be_bytes([major, minor]),
        payload,
    };
    Some((record, rest))
}

/// One handshake message.
#[derive(Debug)]
pub(crate) struct Message<'a> {
    pub(crate) msg_type: u8,
    pub(crate) body: &'a [u8],
    /// Header included: how much of the handshake stream this message took.
    pub(crate) consumed: usize,
}

/// The complete handshake message at the start of the concatenated handshake payloads, or
/// `None` while it is incomplete.
pub(crate) fn split_message(bytes: &[u8]) -> Result<Option<Message<'_>>, WireError> {
    let Some((&[msg_type, a, b, c], rest)) = bytes.split_first_chunk::<4>() else {
        return Ok(None);
    };
    let length = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
    if length > MAX_HANDSHAKE {
        return Err(WireError::TooLarge { length });
    }
    Ok(rest.get(..length).map(|body| Message {
        msg_type,
        body,
        consumed: 4 + length,
    }))
}

/// A whole record; `payload` must fit one record, which every builder here guarantees.
pub(crate) fn record(content_type: u8, version: u16, payload: &[u8]) -> Vec<u8> {
    debug_assert!(payload.len() <= MAX_PLAINTEXT, "payload needs fragmenting");
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.push(content_type);
    put_u16(&mut out, version);
    put_u16(&mut out, payload.len() as u16);
    out.extend_from_slice(payload);
    out
}

/// A handshake message: type, 24-bit length, body.
pub(crate) fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + body.len());
    out.push(msg_type);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}
