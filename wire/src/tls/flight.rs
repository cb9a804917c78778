//! Reading what a server sends, as it arrives, one event at a time.

use super::codec::Reader;
use super::records::{
    ALERT, APPLICATION_DATA, CERTIFICATE, CHANGE_CIPHER_SPEC, HANDSHAKE, HEADER_LEN, MAX_RECORD,
    SERVER_HELLO, SERVER_HELLO_DONE, split_message, split_record,
};
use super::server_hello::parse_server_hello;
use super::{ServerHello, WireError};

/// How much of a non-TLS answer to keep as evidence.
const EVIDENCE_LEN: usize = 32;

/// One thing the server said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    ServerHello(ServerHello),
    /// The certificate chain as sent, leaf first, each entry DER.
    Certificate(Vec<Vec<u8>>),
    ServerHelloDone,
    /// Any other handshake message, by type.
    OtherHandshake(u8),
    Alert {
        level: u8,
        description: u8,
    },
    ChangeCipherSpec,
    /// An application-data record; after a TLS 1.3 ServerHello this is the encrypted rest of
    /// the handshake, which a probe cannot read.
    ApplicationData,
    /// The bytes are not TLS records (an HTTP answer from a plaintext port, say); nothing
    /// after this is read.
    NotTls {
        first_bytes: Vec<u8>,
    },
}

/// An incremental reader of a server's first flight: push bytes as the socket yields them,
/// then take events until `next_event` says it needs more.
#[derive(Debug, Default)]
pub struct ServerFlight {
    received: Vec<u8>,
    handshake: Vec<u8>,
    alerts: Vec<u8>,
    not_tls: bool,
}

impl ServerFlight {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if !self.not_tls {
            self.received.extend_from_slice(bytes);
        }
    }

    /// Bytes pushed that do not yet make a complete record. A server that stops talking with
    /// bytes left here sent a record cut short, which is not TLS a probe may judge.
    pub fn pending_record(&self) -> &[u8] {
        &self.received
    }

    /// Whether a handshake message or an alert has begun in the records read so far but not
    /// ended: complete records whose content is cut short.
    pub fn pending_message(&self) -> bool {
        !self.handshake.is_empty() || !self.alerts.is_empty()
    }

    /// The next event, or `None` until more bytes are pushed. Once it returns an error the
    /// flight is broken and keeps returning it.
    pub fn next_event(&mut self) -> Result<Option<Event>, WireError> {
        loop {
            if self.not_tls {
                return Ok(None);
            }
            // Messages already buffered come before whatever the next record holds.
            if let Some(event) = self.next_handshake_message()? {
                return Ok(Some(event));
            }
            if let Some([level, description]) = self.alerts.first_chunk::<2>().copied() {
                self.alerts.drain(..2);
                return Ok(Some(Event::Alert { level, description }));
            }
            if !plausible_record_start(&self.received) {
                self.not_tls = true;
                let shown = self.received.len().min(EVIDENCE_LEN);
                let first_bytes = self.received.drain(..shown).collect();
                self.received.clear();
                return Ok(Some(Event::NotTls { first_bytes }));
            }
            let Some((record, rest)) = split_record(&self.received) else {
                return Ok(None);
            };
            let (content_type, consumed) = (record.content_type, self.received.len() - rest.len());
            let event = match content_type {
                HANDSHAKE => {
                    self.handshake.extend_from_slice(record.payload);
                    None
                }
                ALERT => {
                    self.alerts.extend_from_slice(record.payload);
                    None
                }
                CHANGE_CIPHER_SPEC => Some(Event::ChangeCipherSpec),
                _ => Some(Event::ApplicationData),
            };
            self.received.drain(..consumed);
            if event.is_some() {
                return Ok(event);
            }
        }
    }

    fn next_handshake_message(&mut self) -> Result<Option<Event>, WireError> {
        let Some(message) = split_message(&self.handshake)? else {
            return Ok(None);
        };
        let event = match message.msg_type {
            SERVER_HELLO => Event::ServerHello(parse_server_hello(message.body)?),
            CERTIFICATE => Event::Certificate(certificate_chain(message.body)?),
            SERVER_HELLO_DONE => Event::ServerHelloDone,
            other => Event::OtherHandshake(other),
        };
        let consumed = message.consumed;
        self.handshake.drain(..consumed);
        Ok(Some(event))
    }
}

/// Whether `bytes` can still be the start of a TLS record, judged on as few bytes as have
/// arrived: a plaintext server's first byte is usually enough.
fn plausible_record_start(bytes: &[u8]) -> bool {
    let known_type = |t: &u8| (CHANGE_CIPHER_SPEC..=APPLICATION_DATA).contains(t);
    match bytes {
        [] => true,
        [t] => known_type(t),
        [t, major] => known_type(t) && *major == 3,
        [t, major, minor, ..] if !(known_type(t) && *major == 3 && *minor <= 4) => false,
        _ => match bytes.get(3..HEADER_LEN) {
            Some(&[high, low]) => usize::from(u16::from_be_bytes([high, low])) <= MAX_RECORD,
            _ => true,
        },
    }
}

/// A TLS 1.0–1.2 Certificate body (TLS 1.3 sends its own encrypted, never seen here).
fn certificate_chain(body: &[u8]) -> Result<Vec<Vec<u8>>, WireError> {
    let mut message = Reader::new(body, "certificate entry overruns the message");
    let mut list = message.vec24()?;
    let mut chain = Vec::new();
    while !list.is_empty() {
        chain.push(list.vec24()?.rest().to_vec());
    }
    Ok(chain)
}
