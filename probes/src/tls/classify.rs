//! From the bytes a server sent to one ClientHello (and how the read ended) to a verdict, read
//! through `wire`'s record parser so that only complete records decide anything.

use wire::tls::{Event, ServerFlight, alert};

use super::{Answer, Refusal, Verdict};

/// How much of an answer that is not TLS to keep as evidence.
const EVIDENCE_LEN: usize = 32;

/// How the read of an answer ended when no byte had decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The server closed the connection (FIN) or reset it (RST).
    Closed,
    /// The read bound ran out.
    TimedOut,
}

/// A verdict and the answer that justifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub verdict: Verdict,
    pub answer: Answer,
}

impl Judgement {
    fn refused(refusal: Refusal, answer: Answer) -> Judgement {
        Judgement {
            verdict: Verdict::Refused(refusal),
            answer,
        }
    }

    fn unreadable(reason: String) -> Judgement {
        Judgement {
            verdict: Verdict::Unreadable {
                reason: reason.clone(),
            },
            answer: Answer::Unreadable { reason },
        }
    }

    fn not_tls(bytes: &[u8]) -> Judgement {
        let first_bytes = bytes.get(..EVIDENCE_LEN).unwrap_or(bytes).to_vec();
        Judgement {
            answer: Answer::not_tls(&first_bytes),
            verdict: Verdict::NotTls { first_bytes },
        }
    }
}

/// Judges the whole answer to one ClientHello at once: `answer` is everything the server sent
/// before the read ended as `ending` says.
pub fn classify(answer: &[u8], ending: Ending) -> Judgement {
    let mut classifier = Classifier::default();
    classifier
        .push(answer)
        .unwrap_or_else(|| classifier.end(ending))
}

/// The same judgement, as the bytes arrive: `push` decides as soon as a complete record
/// does, `end` decides what a server that stopped talking left behind.
#[derive(Debug, Default)]
pub(crate) struct Classifier {
    flight: ServerFlight,
    /// The last warning alert: a server may go on after one, so it refuses only if nothing
    /// better follows.
    warning: Option<u8>,
}

impl Classifier {
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Option<Judgement> {
        self.flight.push(bytes);
        loop {
            let event = match self.flight.next_event() {
                Ok(Some(event)) => event,
                Ok(None) => return None,
                Err(error) => return Some(Judgement::unreadable(error.to_string())),
            };
            return Some(match event {
                Event::ServerHello(hello) => Judgement {
                    verdict: Verdict::Accepted(hello),
                    answer: Answer::server_hello(&hello),
                },
                // A HelloRequest or similar may precede the answer; it decides nothing.
                Event::OtherHandshake(_) => continue,
                Event::Alert { level, description } if level != alert::FATAL => {
                    self.warning = Some(description);
                    continue;
                }
                Event::Alert { level, description } => Judgement::refused(
                    Refusal::from_alert(description),
                    Answer::alert(level, description),
                ),
                Event::NotTls { first_bytes } => Judgement::not_tls(&first_bytes),
                other => Judgement::unreadable(format!("{other:?} before any ServerHello")),
            });
        }
    }

    /// The judgement when the server stopped without a decisive record.
    pub(crate) fn end(&self, ending: Ending) -> Judgement {
        if let Some(description) = self.warning {
            return Judgement::refused(
                Refusal::from_alert(description),
                Answer::alert(alert::WARNING, description),
            );
        }
        let pending = self.flight.pending_record();
        if !pending.is_empty() {
            return Judgement::not_tls(pending);
        }
        if self.flight.pending_message() {
            return Judgement::unreadable("the answer ends inside a TLS message".to_owned());
        }
        match ending {
            Ending::Closed => Judgement::refused(Refusal::ClosedBeforeServerHello, Answer::Closed),
            Ending::TimedOut => Judgement {
                verdict: Verdict::NoAnswer,
                answer: Answer::TimedOut,
            },
        }
    }

    /// The flight after a ServerHello, to read on to the certificate chain.
    pub(crate) fn into_flight(self) -> ServerFlight {
        self.flight
    }
}

#[cfg(test)]
mod tests;
