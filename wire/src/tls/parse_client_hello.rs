//! Reading a client's first flight: what a mock server needs to know about who is calling.
//! The bytes come from a peer, so every length is checked and nothing here can panic.

use super::codec::Reader;
use super::extensions::{ALPN, SERVER_NAME, SUPPORTED_VERSIONS, each_extension};
use super::records::{CLIENT_HELLO, HANDSHAKE, MAX_PLAINTEXT, split_message, split_record};
use super::{Version, WireError};

/// The parts of a ClientHello that decide a server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// The version on the first record header.
    pub record_version: u16,
    pub legacy_version: u16,
    /// The `supported_versions` extension, as sent (GREASE included), if there was one.
    pub supported_versions: Option<Vec<u16>>,
    pub cipher_suites: Vec<u16>,
    pub sni: Option<String>,
    pub alpn: Vec<String>,
}

impl ClientHello {
    /// The versions this hello lets a server choose: `supported_versions` when present
    /// (RFC 8446 §4.2.1 makes it override legacy_version), else every version up to
    /// legacy_version (RFC 5246 §E.1: the client names its highest; a server may answer with
    /// any lower one). How low a client without the extension really goes shows only in what
    /// it accepts from an older server, not here. Unknown codes, GREASE included, are left
    /// out.
    pub fn offered_versions(&self) -> Vec<Version> {
        match &self.supported_versions {
            Some(codes) => codes
                .iter()
                .filter_map(|&c| Version::from_code(c))
                .collect(),
            None => Version::ALL
                .into_iter()
                .filter(|v| *v != Version::Tls13 && v.code() <= self.legacy_version)
                .collect(),
        }
    }

    /// The highest version this hello offers: what a server that negotiates honestly picks.
    pub fn highest_version(&self) -> Option<Version> {
        self.offered_versions().into_iter().max()
    }
}

/// Reads the ClientHello at the start of a client's byte stream; it may span several records.
/// `Truncated` means more bytes are needed; any other error means this is no ClientHello.
pub fn parse_client_hello(bytes: &[u8]) -> Result<ClientHello, WireError> {
    let mut rest = bytes;
    let mut record_version = None;
    let mut handshake = Vec::new();
    loop {
        // Decide on the first byte available, so a caller reading a stream need not wait
        // for a whole message before learning that the peer speaks something else.
        if let Some(&msg_type) = handshake.first()
            && msg_type != CLIENT_HELLO
        {
            return Err(WireError::UnexpectedMessage { msg_type });
        }
        if let Some(message) = split_message(&handshake)? {
            return read_body(message.body, record_version.unwrap_or_default());
        }
        if let Some(&content_type) = rest.first()
            && content_type != HANDSHAKE
        {
            return Err(WireError::NotHandshake { content_type });
        }
        let Some((record, after)) = split_record(rest) else {
            return Err(WireError::Truncated);
        };
        if record.payload.len() > MAX_PLAINTEXT {
            return Err(WireError::Malformed(
                "handshake record longer than 2^14 bytes",
            ));
        }
        record_version.get_or_insert(record.version);
        handshake.extend_from_slice(record.payload);
        rest = after;
    }
}

fn read_body(body: &[u8], record_version: u16) -> Result<ClientHello, WireError> {
    let mut hello = Reader::new(body, "ClientHello field overruns the message");
    let legacy_version = hello.u16()?;
    hello.take(32)?; // random
    if hello.vec8()?.rest().len() > 32 {
        return Err(WireError::Malformed("session id longer than 32 bytes"));
    }
    let suites = hello.vec16()?;
    if suites.rest().len() % 2 != 0 {
        return Err(WireError::Malformed("cipher suite list of odd length"));
    }
    let cipher_suites = suites.u16_list()?;
    if hello.vec8()?.is_empty() {
        return Err(WireError::Malformed("no compression method offered"));
    }
    let mut parsed = ClientHello {
        record_version,
        legacy_version,
        supported_versions: None,
        cipher_suites,
        sni: None,
        alpn: Vec::new(),
    };
    // SSL 3.0 clients may end the hello here: extensions came later.
    if !hello.is_empty() {
        each_extension(hello.vec16()?, |extension, mut data| {
            match extension {
                SERVER_NAME => parsed.sni = host_name(data.vec16()?)?,
                ALPN => parsed.alpn = protocols(data.vec16()?)?,
                SUPPORTED_VERSIONS => {
                    let list = data.vec8()?;
                    if list.rest().len() % 2 != 0 {
                        return Err(WireError::Malformed("supported_versions of odd length"));
                    }
                    parsed.supported_versions = Some(list.u16_list()?);
                }
                _ => {}
            }
            Ok(())
        })?;
    }
    Ok(parsed)
}

fn host_name(mut names: Reader<'_>) -> Result<Option<String>, WireError> {
    while !names.is_empty() {
        let name_type = names.u8()?;
        let name = names.vec16()?;
        if name_type == 0 {
            return text(name.rest(), "server name is not UTF-8").map(Some);
        }
    }
    Ok(None)
}

fn protocols(mut list: Reader<'_>) -> Result<Vec<String>, WireError> {
    let mut names = Vec::new();
    while !list.is_empty() {
        names.push(text(list.vec8()?.rest(), "ALPN protocol is not UTF-8")?);
    }
    Ok(names)
}

fn text(bytes: &[u8], complaint: &'static str) -> Result<String, WireError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| WireError::Malformed(complaint))
}
