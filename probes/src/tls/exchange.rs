//! One question to the server: a fresh connection, one ClientHello, the answer, and a hang-up
//! before any key is agreed.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use wire::tls::{ClientHelloSpec, Event, ServerFlight, Version, client_hello};

use super::classify::{Classifier, Ending, Judgement};
use super::target::timed_out;
use super::{Answer, ProbeError, Refusal, Verdict};

/// Where every connection of one probe goes, and what each may cost.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) address: SocketAddr,
    pub(crate) sni: Option<String>,
    /// The bound on connecting and on writing the hello.
    pub(crate) timeout: Duration,
    /// The bound on reading the answer, from the hello written to the last byte read.
    pub(crate) read_timeout: Duration,
}

/// What one connection established.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) verdict: Verdict,
    pub(crate) answer: Answer,
    /// DER, leaf first; only asked for, and only visible, below TLS 1.3.
    pub(crate) chain: Vec<Vec<u8>>,
}

impl Outcome {
    fn judged(judgement: Judgement) -> Outcome {
        Outcome {
            verdict: judgement.verdict,
            answer: judgement.answer,
            chain: Vec::new(),
        }
    }
}

impl Endpoint {
    pub(crate) async fn connect(&self) -> Result<TcpStream, ProbeError> {
        let failed = |source| ProbeError::Connect {
            address: self.address,
            source,
        };
        tokio::time::timeout(self.timeout, TcpStream::connect(self.address))
            .await
            .map_err(|_| failed(timed_out(self.timeout)))?
            .map_err(failed)
    }

    /// Offers `version` with `suites`; with `want_chain`, keeps reading after a ServerHello
    /// below TLS 1.3 until the certificate chain has gone by.
    pub(crate) async fn ask(
        &self,
        version: Version,
        suites: Vec<u16>,
        want_chain: bool,
    ) -> Result<Outcome, ProbeError> {
        let mut stream = self.connect().await?;
        let hello = client_hello(&ClientHelloSpec {
            version,
            suites,
            sni: self.sni.clone(),
        });
        match tokio::time::timeout(self.timeout, stream.write_all(&hello)).await {
            Err(_) => {
                return Ok(Outcome::judged(Judgement {
                    verdict: Verdict::NoAnswer,
                    answer: Answer::TimedOut,
                }));
            }
            // A server may hang up on a hello it dislikes before reading all of it.
            Ok(Err(_)) => {
                return Ok(Outcome::judged(Judgement {
                    verdict: Verdict::Refused(Refusal::ClosedBeforeServerHello),
                    answer: Answer::Closed,
                }));
            }
            Ok(Ok(())) => {}
        }
        let mut reading = Reading {
            stream,
            deadline: Instant::now() + self.read_timeout,
        };
        let (judgement, flight) = reading.judge().await;
        let chain = match (&judgement.verdict, flight) {
            (Verdict::Accepted(hello), Some(flight))
                if want_chain && hello.selected_version < Version::Tls13.code() =>
            {
                reading.chain(flight).await
            }
            _ => Vec::new(),
        };
        Ok(Outcome {
            chain,
            ..Outcome::judged(judgement)
        })
    }
}

/// An open connection whose every read shares one deadline.
#[derive(Debug)]
struct Reading {
    stream: TcpStream,
    deadline: Instant,
}

/// What one read brought.
enum Read {
    Bytes(usize),
    Ended(Ending),
}

impl Reading {
    async fn read(&mut self, buffer: &mut [u8]) -> Read {
        match timeout_at(self.deadline, self.stream.read(buffer)).await {
            Err(_) => Read::Ended(Ending::TimedOut),
            Ok(Ok(0) | Err(_)) => Read::Ended(Ending::Closed),
            Ok(Ok(n)) => Read::Bytes(n),
        }
    }

    /// Reads until the answer decides a verdict, or the server stops; hands back the flight
    /// when the verdict came from a record, so the rest of the server's flight can be read.
    async fn judge(&mut self) -> (Judgement, Option<ServerFlight>) {
        let mut classifier = Classifier::default();
        let mut buffer = [0u8; 8192];
        loop {
            match self.read(&mut buffer).await {
                Read::Ended(ending) => return (classifier.end(ending), None),
                Read::Bytes(n) => {
                    if let Some(judgement) = classifier.push(buffer.get(..n).unwrap_or_default()) {
                        return (judgement, Some(classifier.into_flight()));
                    }
                }
            }
        }
    }

    /// The chain, if a Certificate message comes before the server stops talking in the
    /// clear; servers on anonymous or PSK suites send none.
    async fn chain(&mut self, mut flight: ServerFlight) -> Vec<Vec<u8>> {
        let mut buffer = [0u8; 8192];
        loop {
            match flight.next_event() {
                Ok(Some(Event::Certificate(chain))) => return chain,
                Ok(Some(Event::OtherHandshake(_))) => continue,
                Ok(Some(_)) | Err(_) => return Vec::new(),
                Ok(None) => {}
            }
            match self.read(&mut buffer).await {
                Read::Bytes(n) => flight.push(buffer.get(..n).unwrap_or_default()),
                Read::Ended(_) => return Vec::new(),
            }
        }
    }
}
