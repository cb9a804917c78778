//! Each toxic on a real loopback socket pair, in real time with small values.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout};

use super::*;
use crate::world::Lifetime;

const SHORT: Duration = Duration::from_millis(150);
const BOUND: Duration = Duration::from_secs(5);

/// A connected pair: the dialling side under `toxics`, and the server's end.
async fn pair(toxics: &Toxics) -> (Toxicated<TcpStream>, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dialled = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (accepted, _) = listener.accept().await.unwrap();
    (Toxicated::new(dialled, toxics), accepted)
}

async fn read_to_end(socket: &mut (impl AsyncReadExt + Unpin)) -> std::io::Result<Vec<u8>> {
    let mut all = Vec::new();
    timeout(BOUND, socket.read_to_end(&mut all))
        .await
        .expect("the stream ended")?;
    Ok(all)
}

#[tokio::test]
async fn latency_holds_each_direction_back_by_its_delay() {
    let toxics = Toxics::new();
    let (mut client, mut server) = pair(&toxics).await;
    let latency = Toxic::Latency {
        delay: SHORT,
        jitter: Duration::from_millis(20),
    };
    let down = toxics.add(Direction::Downstream, latency);
    let started = Instant::now();
    server.write_all(b"pong").await.unwrap();
    let mut buf = [0u8; 4];
    client.read_exact(&mut buf).await.unwrap();
    assert!(started.elapsed() >= SHORT - Duration::from_millis(20));
    toxics.remove(down);

    toxics.add(Direction::Upstream, latency);
    let started = Instant::now();
    client.write_all(b"ping").await.unwrap();
    server.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
    assert!(started.elapsed() >= SHORT - Duration::from_millis(20));
}

#[tokio::test]
async fn nothing_slows_a_link_without_toxics() {
    let toxics = Toxics::new();
    let (mut client, mut server) = pair(&toxics).await;
    let started = Instant::now();
    for _ in 0..100 {
        client.write_all(b"x").await.unwrap();
        let mut buf = [0u8; 1];
        server.read_exact(&mut buf).await.unwrap();
    }
    assert!(started.elapsed() < SHORT);
}

#[tokio::test]
async fn bandwidth_paces_the_bytes() {
    let toxics = Toxics::new();
    let (mut client, mut server) = pair(&toxics).await;
    toxics.add(
        Direction::Upstream,
        Toxic::Bandwidth {
            bytes_per_second: 20_000,
        },
    );
    let started = Instant::now();
    let sending = tokio::spawn(async move {
        client.write_all(&[7u8; 8_000]).await.unwrap();
        client.shutdown().await.unwrap();
    });
    let got = read_to_end(&mut server).await.unwrap();
    sending.await.unwrap();
    assert_eq!(got.len(), 8_000);
    // 8 000 bytes at 20 000 B/s: 0.4 s, less the first slot that goes at once.
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn slow_close_delivers_the_end_late() {
    let toxics = Toxics::new();
    let (mut client, server) = pair(&toxics).await;
    toxics.add(Direction::Downstream, Toxic::SlowClose { delay: SHORT });
    let started = Instant::now();
    drop(server);
    assert!(read_to_end(&mut client).await.unwrap().is_empty());
    assert!(started.elapsed() >= SHORT);

    // Upstream: what this side closes reaches the peer late.
    let (client, mut server) = pair(&toxics).await;
    toxics.add(Direction::Upstream, Toxic::SlowClose { delay: SHORT });
    let started = Instant::now();
    drop(client);
    assert!(read_to_end(&mut server).await.unwrap().is_empty());
    assert!(started.elapsed() >= SHORT);
}

#[tokio::test]
async fn a_black_hole_stalls_until_removed_or_ends_the_connection() {
    let toxics = Toxics::new();
    let (mut client, mut server) = pair(&toxics).await;
    let hole = toxics.add(Direction::Downstream, Toxic::Timeout { close_after: None });
    server.write_all(b"held").await.unwrap();
    let mut buf = [0u8; 4];
    assert!(timeout(SHORT, client.read_exact(&mut buf)).await.is_err());
    toxics.remove(hole);
    timeout(BOUND, client.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf, b"held");

    toxics.add(
        Direction::Upstream,
        Toxic::Timeout {
            close_after: Some(SHORT),
        },
    );
    let started = Instant::now();
    let wrote = timeout(BOUND, client.write_all(b"lost")).await.unwrap();
    assert_eq!(wrote.unwrap_err().kind(), std::io::ErrorKind::BrokenPipe);
    assert!(started.elapsed() >= SHORT);
}

#[tokio::test]
async fn reset_peer_fails_both_sides() {
    let toxics = Toxics::new();
    let (mut client, mut server) = pair(&toxics).await;
    toxics.add(Direction::Downstream, Toxic::ResetPeer { after: SHORT });
    let mut buf = [0u8; 4];
    // A read parked on the socket is woken by the reset.
    let read = timeout(BOUND, client.read(&mut buf)).await.unwrap();
    assert_eq!(
        read.unwrap_err().kind(),
        std::io::ErrorKind::ConnectionReset
    );
    assert!(
        client.write_all(b"more").await.is_err(),
        "a reset link stays reset"
    );
    drop(client);
    let seen = read_to_end(&mut server).await;
    assert_eq!(
        seen.unwrap_err().kind(),
        std::io::ErrorKind::ConnectionReset
    );
}

#[tokio::test]
async fn a_reset_added_later_wakes_a_parked_read() {
    let toxics = Toxics::new();
    let (mut client, _server) = pair(&toxics).await;
    let reading = tokio::spawn(async move {
        let mut buf = [0u8; 4];
        client.read(&mut buf).await.map(|_| ())
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    toxics.add(
        Direction::Upstream,
        Toxic::ResetPeer {
            after: Duration::ZERO,
        },
    );
    let read = timeout(BOUND, reading).await.unwrap().unwrap();
    assert_eq!(
        read.unwrap_err().kind(),
        std::io::ErrorKind::ConnectionReset
    );
}

#[tokio::test]
async fn the_slicer_cuts_writes_into_small_pieces() {
    let toxics = Toxics::new();
    let (mut client, mut server) = pair(&toxics).await;
    toxics.add(
        Direction::Upstream,
        Toxic::Slicer {
            size: 10,
            delay: Duration::from_millis(5),
        },
    );
    assert_eq!(client.write(&[1u8; 100]).await.unwrap(), 10);
    client.write_all(&[2u8; 90]).await.unwrap();
    client.shutdown().await.unwrap();
    assert_eq!(read_to_end(&mut server).await.unwrap().len(), 100);

    let (mut client, mut server) = pair(&toxics).await;
    toxics.clear();
    toxics.add(
        Direction::Downstream,
        Toxic::Slicer {
            size: 3,
            delay: Duration::ZERO,
        },
    );
    server.write_all(b"abcdefgh").await.unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(client.read(&mut buf).await.unwrap(), 3);
}

#[tokio::test]
async fn a_data_limit_ends_the_connection_after_its_bytes() {
    let toxics = Toxics::new();
    let (mut client, mut server) = pair(&toxics).await;
    toxics.add(Direction::Downstream, Toxic::LimitData { bytes: 10 });
    toxics.add(Direction::Upstream, Toxic::LimitData { bytes: 5 });
    server.write_all(&[9u8; 100]).await.unwrap();
    assert_eq!(read_to_end(&mut client).await.unwrap().len(), 10);
    let wrote = client.write_all(&[1u8; 50]).await;
    assert_eq!(wrote.unwrap_err().kind(), std::io::ErrorKind::BrokenPipe);
    // The peer got the first five bytes, then the end.
    assert_eq!(read_to_end(&mut server).await.unwrap().len(), 5);
}

#[tokio::test]
async fn the_proxy_relays_and_applies_its_toxics() {
    let lifetime = Lifetime::new();
    let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = ToxicProxy::start(server.local_addr().unwrap(), &lifetime)
        .await
        .unwrap();
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    let (mut accepted, _) = server.accept().await.unwrap();
    client.write_all(b"hello").await.unwrap();
    let mut buf = [0u8; 5];
    accepted.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"hello");

    proxy.toxics().add(
        Direction::Downstream,
        Toxic::ResetPeer {
            after: Duration::ZERO,
        },
    );
    accepted.write_all(b"x").await.unwrap_or_default();
    let seen = read_to_end(&mut client).await;
    assert_eq!(
        seen.unwrap_err().kind(),
        std::io::ErrorKind::ConnectionReset
    );
    lifetime.stop().await;
}

/// A client on `client_ip` dials `proxy`: the address the far side's accept saw it from.
async fn seen_through(
    proxy: &ToxicProxy,
    server: &TcpListener,
    client_ip: [u8; 4],
) -> std::net::SocketAddr {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(std::net::SocketAddr::from((client_ip, 0)))
        .unwrap();
    let _client = socket.connect(proxy.addr()).await.unwrap();
    let (_accepted, peer) = timeout(BOUND, server.accept())
        .await
        .expect("the proxy connected on")
        .unwrap();
    peer
}

/// A hop in front of a server of its own, dialling as `from` says.
async fn hop_dialling(from: DialFrom, lifetime: &Lifetime) -> (ToxicProxy, TcpListener) {
    let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = ToxicProxy::serve_as(front, server.local_addr().unwrap(), from, lifetime).unwrap();
    (proxy, server)
}

#[tokio::test]
async fn a_transparent_hop_arrives_from_the_clients_own_address() {
    let lifetime = Lifetime::new();
    let (proxy, server) = hop_dialling(DialFrom::ClientAddress, &lifetime).await;
    let peer = seen_through(&proxy, &server, [127, 0, 0, 7]).await;
    assert_eq!(peer.ip(), std::net::IpAddr::from([127, 0, 0, 7]));
    let other = seen_through(&proxy, &server, [127, 0, 0, 8]).await;
    assert_eq!(other.ip(), std::net::IpAddr::from([127, 0, 0, 8]));
    lifetime.stop().await;
}

#[tokio::test]
async fn a_hop_dialling_from_its_own_address_shows_every_client_alike() {
    let lifetime = Lifetime::new();
    let (proxy, server) = hop_dialling(DialFrom::ProxyAddress, &lifetime).await;
    let peer = seen_through(&proxy, &server, [127, 0, 0, 7]).await;
    assert_eq!(peer.ip(), std::net::IpAddr::from([127, 0, 0, 1]));
    lifetime.stop().await;
}
