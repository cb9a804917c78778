//! How a cloud endpoint takes a connection: it keeps the client's first flight (the raw
//! ClientHello), then hands the stream to rustls. Its `FrontDoor` settings can put something
//! else in front: a plaintext HTTP server, and an impostor that "accepts" legacy TLS.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use wire::tls::{ClientHello, Version, WireError, parse_client_hello, server_hello_record};

use super::CloudState;
use super::hellos::FirstFlight;
use super::outage::Outage;
use crate::world::net::{Metered, ReadBounds, Rewind, Traffic, serve_connection};
use crate::world::{Fault, FaultSet};

/// The most of a first flight kept: a ClientHello is a few hundred bytes, a large one a few KiB.
const FIRST_FLIGHT_LIMIT: usize = 64 * 1024;
/// How long a silent client may take to send its first flight before it is handed on anyway.
const FIRST_FLIGHT_WAIT: Duration = Duration::from_secs(5);
/// The first byte of a TLS handshake record.
const HANDSHAKE: u8 = 0x16;

/// What answers a connection before rustls does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrontDoor {
    /// A client that does not open with a TLS handshake is served plaintext HTTP.
    pub plaintext: bool,
    /// A legacy TLS hello (TLS 1.0/1.1, or only CBC or RSA key-exchange suites) is answered
    /// with a ServerHello, as an old terminator in front would.
    pub legacy_tls: bool,
}

impl FrontDoor {
    pub fn from_faults(faults: &FaultSet) -> Self {
        Self {
            plaintext: faults.is_on(Fault::CloudPlaintextListener),
            legacy_tls: faults.is_on(Fault::CloudLegacyTls),
        }
    }
}

/// The address a request's connection came from, as the listener accepted it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub std::net::SocketAddr);

/// One endpoint's listener, ready to run.
pub(crate) struct Endpoint {
    pub listener: TcpListener,
    pub host: &'static str,
    pub tls: Arc<rustls::ServerConfig>,
    pub router: axum::Router,
}

pub(crate) fn serve(endpoint: Endpoint, state: Arc<CloudState>, ingress: Traffic) {
    let acceptor = TlsAcceptor::from(endpoint.tls);
    let lifetime = state.lifetime.clone();
    lifetime.spawn(async move {
        loop {
            let Ok((socket, peer)) = endpoint.listener.accept().await else {
                continue;
            };
            let _ = socket.set_nodelay(true);
            let socket =
                ingress.meter_accepted(endpoint.host, socket.local_addr().ok(), peer, socket);
            let connection = handle(
                socket,
                peer,
                endpoint.host,
                acceptor.clone(),
                endpoint.router.clone(),
                state.clone(),
                ingress.clone(),
            );
            state.lifetime.spawn(connection);
        }
    });
}

async fn handle(
    mut socket: Metered<TcpStream>,
    peer: std::net::SocketAddr,
    host: &'static str,
    acceptor: TlsAcceptor,
    router: axum::Router,
    state: Arc<CloudState>,
    ingress: Traffic,
) {
    match state.outage.get() {
        Outage::Down => return,
        // Held open, never answered, until the environment stops.
        Outage::Silent => return std::future::pending().await,
        Outage::None | Outage::ServerErrors => {}
    }
    let router = router.layer(axum::Extension(Peer(peer)));
    let first = read_first_flight(&mut socket).await;
    state.hellos.record(FirstFlight {
        endpoint: host,
        peer,
        bytes: first.clone(),
        at_unix: state.clock.unix_seconds(),
        received: std::time::Instant::now(),
    });
    let speaks_tls = first.first() == Some(&HANDSHAKE);
    if !speaks_tls && state.door.plaintext {
        return serve_connection(Rewind::new(first, socket), router).await;
    }
    if state.door.legacy_tls
        && let Some(answer) = parse_client_hello(&first)
            .ok()
            .and_then(|h| impostor_answer(&h))
    {
        let _ = socket.write_all(&answer).await;
        return;
    }
    let face = state.presenting.get();
    if let Some(version) = face.as_ref().and_then(|f| f.legacy_only) {
        // A server that speaks only TLS 1.0 or 1.1: it answers any hello with its version
        // and the client's first suite, then waits for what the client does next.
        if let Some(suite) = parse_client_hello(&first)
            .ok()
            .and_then(|h| h.cipher_suites.first().copied())
        {
            let _ = socket.write_all(&server_hello_record(version, suite)).await;
            let mut rest = Vec::new();
            let _ = tokio::time::timeout(FIRST_FLIGHT_WAIT, socket.read_to_end(&mut rest)).await;
        }
        return;
    }
    let acceptor = face
        .and_then(|f| f.config(host))
        .map_or(acceptor, TlsAcceptor::from);
    // A failed handshake is the client's business (and a TLS scanner's whole point): the
    // first flight above already records what it offered.
    // A client that stalls mid-handshake is dropped like one that fails it.
    let handshake = acceptor.accept(Rewind::new(first, socket));
    if let Ok(Ok(stream)) = tokio::time::timeout(ReadBounds::default().handshake, handshake).await {
        serve_connection(ingress.plaintext(host, stream), router).await;
    }
}

/// Reads until the first flight holds a whole ClientHello, or is clearly not one, or the
/// client stops sending.
async fn read_first_flight(socket: &mut Metered<TcpStream>) -> Vec<u8> {
    let mut flight = Vec::new();
    let mut chunk = [0u8; 4096];
    let reading = async {
        while flight.len() < FIRST_FLIGHT_LIMIT {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => flight.extend_from_slice(&chunk[..n]),
            }
            if flight.first() != Some(&HANDSHAKE)
                || !matches!(parse_client_hello(&flight), Err(WireError::Truncated))
            {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(FIRST_FLIGHT_WAIT, reading).await;
    flight
}

/// What the legacy-TLS impostor says to `hello`: a ServerHello for a TLS 1.0/1.1 offer, or for
/// an offer made only of suites without forward secrecy or AEAD; nothing for anything else.
fn impostor_answer(hello: &ClientHello) -> Option<Vec<u8>> {
    let suites: Vec<u16> = hello
        .cipher_suites
        .iter()
        .copied()
        .filter(|code| !is_signalling(*code))
        .collect();
    let first = *suites.first()?;
    let highest = hello.offered_versions().into_iter().max()?;
    match highest {
        Version::Tls10 | Version::Tls11 => Some(server_hello_record(highest, first)),
        Version::Tls12 if suites.iter().all(|code| !is_modern(*code)) => {
            Some(server_hello_record(Version::Tls12, first))
        }
        _ => None,
    }
}

/// Forward secret and AEAD: what a cloud endpoint may negotiate.
fn is_modern(code: u16) -> bool {
    wire::tls::suite(code).is_some_and(|s| s.forward_secret && s.aead)
}

/// TLS_EMPTY_RENEGOTIATION_INFO_SCSV and TLS_FALLBACK_SCSV carry signals, not ciphers.
fn is_signalling(code: u16) -> bool {
    matches!(code, 0x00ff | 0x5600)
}
