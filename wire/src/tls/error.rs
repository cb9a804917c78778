/// Why bytes from a peer could not be read as the TLS message expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The bytes end before the message does; more bytes from the peer may complete it.
    #[error("the bytes end before the TLS message does")]
    Truncated,
    /// The first record is not a handshake record, so the peer did not start a TLS handshake.
    #[error("record of content type {content_type} where a handshake record was expected")]
    NotHandshake { content_type: u8 },
    /// The first handshake message is not the one the reader expects.
    #[error("handshake message of type {msg_type} where a ClientHello was expected")]
    UnexpectedMessage { msg_type: u8 },
    /// A handshake message declares a length beyond what this reader buffers.
    #[error("handshake message of {length} bytes is larger than a probe accepts")]
    TooLarge { length: usize },
    /// A length field or value contradicts the structure around it.
    #[error("malformed TLS message: {0}")]
    Malformed(&'static str),
}
