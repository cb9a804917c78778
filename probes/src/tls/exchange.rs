//! One question to the server: a fresh connection, one ClientHello, the answer, and a hang-up
//! before any key is agreed.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use wire::tls::{ClientHelloSpec, Event, ServerFlight, ServerHello, Version, client_hello};

use super::target::timed_out;
use super::{Answer, ProbeError};

/// Where every connection of one probe goes, and what each may cost.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) address: SocketAddr,
    pub(crate) sni: Option<String>,
    pub(crate) timeout: Duration,
}

/// What one connection established.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) answer: Answer,
    pub(crate) hello: Option<ServerHello>,
    /// DER, leaf first; only asked for, and only visible, below TLS 1.3.
    pub(crate) chain: Vec<Vec<u8>>,
}

impl Outcome {
    fn without_hello(answer: Answer) -> Outcome {
        Outcome {
            answer,
            hello: None,
            chain: Vec::new(),
        }
    }
}

impl Endpoint {
    pub(crate) async fn connect(&self) -> Result<Connection, ProbeError> {
        let deadline = Instant::now() + self.timeout;
        let failed = |source| ProbeError::Connect {
            address: self.address,
            source,
        };
        let stream = timeout_at(deadline, TcpStream::connect(self.address))
            .await
            .map_err(|_| failed(timed_out(self.timeout)))?
            .map_err(failed)?;
        Ok(Connection {
            stream,
            flight: ServerFlight::new(),
            deadline,
        })
    }

    /// Offers `version` with `suites`; with `want_chain`, keeps reading after a ServerHello
    /// below TLS 1.3 until the certificate chain has gone by.
    pub(crate) async fn ask(
        &self,
        version: Version,
        suites: Vec<u16>,
        want_chain: bool,
    ) -> Result<Outcome, ProbeError> {
        let mut connection = self.connect().await?;
        let hello = client_hello(&ClientHelloSpec {
            version,
            suites,
            sni: self.sni.clone(),
        });
        let sent = timeout_at(connection.deadline, connection.stream.write_all(&hello)).await;
        match sent {
            Err(_) => return Ok(Outcome::without_hello(Answer::TimedOut)),
            // A server may hang up on a hello it dislikes before reading all of it.
            Ok(Err(_)) => return Ok(Outcome::without_hello(Answer::Closed)),
            Ok(Ok(())) => {}
        }
        let hello = loop {
            let answer = match connection.next().await {
                Heard::Event(Event::ServerHello(hello)) => break hello,
                // A HelloRequest or similar may precede the answer; it decides nothing.
                Heard::Event(Event::OtherHandshake(_)) => continue,
                Heard::Event(Event::Alert { level, description }) => {
                    Answer::alert(level, description)
                }
                Heard::Event(Event::NotTls { first_bytes }) => Answer::not_tls(&first_bytes),
                Heard::Event(other) => Answer::Unreadable {
                    reason: format!("{other:?} before any ServerHello"),
                },
                Heard::Closed => Answer::Closed,
                Heard::TimedOut => Answer::TimedOut,
                Heard::Unreadable(error) => Answer::Unreadable {
                    reason: error.to_string(),
                },
            };
            return Ok(Outcome::without_hello(answer));
        };
        let chain = if want_chain && hello.selected_version < Version::Tls13.code() {
            connection.chain().await
        } else {
            Vec::new()
        };
        Ok(Outcome {
            answer: Answer::server_hello(&hello),
            hello: Some(hello),
            chain,
        })
    }
}

/// An open connection whose every read shares one deadline.
#[derive(Debug)]
pub(crate) struct Connection {
    stream: TcpStream,
    flight: ServerFlight,
    deadline: Instant,
}

enum Heard {
    Event(Event),
    Closed,
    TimedOut,
    Unreadable(wire::tls::WireError),
}

impl Connection {
    async fn next(&mut self) -> Heard {
        let mut buffer = [0u8; 8192];
        loop {
            match self.flight.next_event() {
                Ok(Some(event)) => return Heard::Event(event),
                Ok(None) => {}
                Err(error) => return Heard::Unreadable(error),
            }
            match timeout_at(self.deadline, self.stream.read(&mut buffer)).await {
                Err(_) => return Heard::TimedOut,
                Ok(Ok(0) | Err(_)) => return Heard::Closed,
                Ok(Ok(n)) => self.flight.push(buffer.get(..n).unwrap_or_default()),
            }
        }
    }

    /// The chain, if a Certificate message comes before the server stops talking in the
    /// clear; servers on anonymous or PSK suites send none.
    async fn chain(&mut self) -> Vec<Vec<u8>> {
        loop {
            match self.next().await {
                Heard::Event(Event::Certificate(chain)) => return chain,
                Heard::Event(Event::OtherHandshake(_)) => {}
                _ => return Vec::new(),
            }
        }
    }
}
