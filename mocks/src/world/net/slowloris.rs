//! Slowloris on a real socket: a client that trickles its request head, or its body, is cut
//! off once the server's read bound passes, and the server keeps serving others. Real time
//! only as short bounds: the server's, the trickle's pace, and a hang detector.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout};

use super::{ReadBounds, serve_http_with};
use crate::world::Lifetime;

const BOUND: Duration = Duration::from_millis(300);
const PACE: Duration = Duration::from_millis(50);
/// Far beyond the bound: reaching it means the server held the connection.
const HANG: Duration = Duration::from_secs(10);

async fn server() -> (std::net::SocketAddr, Lifetime) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a listener");
    let addr = listener.local_addr().expect("an address");
    let lifetime = Lifetime::new();
    let router = axum::Router::new().fallback(|body: axum::body::Body| async move {
        match axum::body::to_bytes(body, 1024).await {
            Ok(_) => (http::StatusCode::OK, "read"),
            Err(_) => (http::StatusCode::REQUEST_TIMEOUT, "the body stalled"),
        }
    });
    let bounds = ReadBounds {
        head: BOUND,
        body: BOUND,
        handshake: BOUND,
    };
    serve_http_with(listener, &lifetime, router, bounds);
    (addr, lifetime)
}

/// Sends `opening`, then one byte of `trickle` per `PACE`, reading what the server says
/// between them; returns what it said and how long until it ended the connection, or `None`
/// if it never did within `HANG`.
async fn trickle(
    addr: std::net::SocketAddr,
    opening: &[u8],
    trickle: u8,
) -> Option<(String, Duration)> {
    let mut client = TcpStream::connect(addr).await.expect("a connection");
    let started = Instant::now();
    client
        .write_all(opening)
        .await
        .expect("the opening is sent");
    let mut said = Vec::new();
    let ending = async {
        let mut buf = [0u8; 1024];
        loop {
            // A write error means the server has gone already: read what it left.
            let _ = client.write_all(&[trickle]).await;
            match timeout(PACE, client.read(&mut buf)).await {
                Ok(Ok(0) | Err(_)) => return,
                Ok(Ok(n)) => said.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
        }
    };
    timeout(HANG, ending).await.ok()?;
    Some((
        String::from_utf8_lossy(&said).into_owned(),
        started.elapsed(),
    ))
}

async fn answers(addr: std::net::SocketAddr) -> bool {
    let mut client = TcpStream::connect(addr).await.expect("a connection");
    let request = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi";
    client
        .write_all(request)
        .await
        .expect("the request is sent");
    let mut answer = Vec::new();
    let read = timeout(HANG, client.read_to_end(&mut answer)).await;
    matches!(read, Ok(Ok(_))) && answer.starts_with(b"HTTP/1.1 200")
}

#[tokio::test]
async fn a_client_that_trickles_its_request_head_is_cut_off_at_the_bound() {
    let (addr, lifetime) = server().await;
    let ended = trickle(addr, b"POST / HTTP/1.1\r\nhost: x\r\nx-slow: ", b'a').await;
    let (_, after) = ended.expect("the server ends a trickled head instead of waiting for it");
    assert!(after >= BOUND, "cut off after {after:?}, before the bound");
    assert!(
        answers(addr).await,
        "the server goes on serving other clients"
    );
    lifetime.stop().await;
}

#[tokio::test]
async fn a_client_that_trickles_its_request_body_is_refused_at_the_bound() {
    let (addr, lifetime) = server().await;
    let head = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n";
    let ended = trickle(addr, head, b'a').await;
    let (said, after) = ended.expect("the server ends a trickled body instead of waiting for it");
    assert!(
        said.starts_with("HTTP/1.1 408"),
        "the handler saw its read fail: {said:?}"
    );
    assert!(after >= BOUND, "refused after {after:?}, before the bound");
    assert!(
        answers(addr).await,
        "the server goes on serving other clients"
    );
    lifetime.stop().await;
}

#[tokio::test]
async fn a_connection_that_never_sends_a_byte_is_closed_at_the_bound() {
    let (addr, lifetime) = server().await;
    let mut client = TcpStream::connect(addr).await.expect("a connection");
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let read = timeout(HANG, client.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0) | Err(_))),
        "the server closes a connection that never speaks: {read:?}"
    );
    assert!(started.elapsed() >= BOUND, "closed before the bound");
    lifetime.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_inside_the_http2_preface_is_cut_off_at_the_bound() {
    let (addr, lifetime) = server().await;
    let mut client = TcpStream::connect(addr).await.expect("a connection");
    let started = Instant::now();
    // One byte short: still possibly HTTP/2, for as long as the client likes.
    let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r";
    client
        .write_all(preface)
        .await
        .expect("the preface is sent");
    let mut buf = [0u8; 64];
    let read = timeout(HANG, client.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0) | Err(_))),
        "the server closes a connection stuck in its preface: {read:?}"
    );
    assert!(started.elapsed() >= BOUND, "closed before the bound");
    lifetime.stop().await;
}
