//! Tunnel frames, drawn at random but reproducibly (ChaCha, fixed seed, whatever
//! `PROPTEST_RNG_SEED` says): bytes cross the WebSocket byte stream intact however they are cut
//! and whatever pings run between them, and whatever binary messages a hostile peer sends, the
//! agent's HTTP/2 server ends the tunnel cleanly once the peer is gone: no panic, no hang.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, RngSeed};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::forward::Forwarder;
use super::tunnel::server_for;
use crate::tunnel_io::{WsIo, tunnel_config};

/// What every HTTP/2 client sends first (RFC 9113 §3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Longer than any tunnel ends in when it works: reaching it is a hang.
const BOUND: Duration = Duration::from_secs(5);

fn config(file: &'static str) -> Config {
    Config {
        cases: 48,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x7E11_2026),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..Config::default()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a test runtime")
}

async fn websocket_pair() -> (WebSocketStream<DuplexStream>, WebSocketStream<DuplexStream>) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    let client = WebSocketStream::from_raw_socket(a, Role::Client, Some(tunnel_config())).await;
    let server = WebSocketStream::from_raw_socket(b, Role::Server, Some(tunnel_config())).await;
    (client, server)
}

/// Writes `chunks` (lengths) of a counting pattern, pinging after the flagged ones; returns
/// what the other end read.
async fn carry(chunks: &[(usize, bool)]) -> (Vec<u8>, Vec<u8>) {
    let (a, b) = websocket_pair().await;
    let ((mut writer, control), (mut reader, _)) = (WsIo::new(a), WsIo::new(b));
    let sent: Vec<u8> = (0..chunks.iter().map(|(n, _)| n).sum::<usize>())
        .map(|i| (i % 253) as u8)
        .collect();
    let expected = sent.len();
    let writing = async {
        let mut at = 0;
        for (len, ping) in chunks {
            writer.write_all(&sent[at..at + len]).await?;
            writer.flush().await?;
            at += len;
            if *ping {
                // Not awaited here: the ping goes out on the writer's next poll, as it does
                // between two HTTP/2 writes.
                let control = control.clone();
                tokio::spawn(async move { control.ping().await });
            }
        }
        std::io::Result::Ok(())
    };
    let mut got = vec![0; expected];
    let exchange = async { tokio::join!(writing, reader.read_exact(&mut got)) };
    let (written, read) = tokio::time::timeout(BOUND, exchange)
        .await
        .expect("the bytes cross without a hang");
    written.expect("the writer's end stays open");
    read.expect("every byte arrives");
    (sent, got)
}

/// Runs the agent's tunnel server against a peer that sends `messages` as binary WebSocket
/// messages and then closes; true when the server ended within `BOUND`.
async fn server_survives(messages: Vec<Vec<u8>>) -> bool {
    let (peer, agent) = websocket_pair().await;
    let (io, _control) = WsIo::new(agent);
    // Port 1 on loopback: nothing listens, so any request that forms is a 502.
    let forwarder = Forwarder::careful("127.0.0.1:1".parse().expect("an address"), BOUND);
    let serving = server_for(&forwarder).serve_connection(
        TokioIo::new(io),
        service_fn(move |r| forwarder.clone().forward(r)),
    );
    let (mut to_agent, mut from_agent) = peer.split();
    let hostile = async {
        for message in messages {
            if to_agent
                .send(Message::Binary(message.into()))
                .await
                .is_err()
            {
                break;
            }
        }
        let _ = to_agent.close().await;
    };
    // Whatever the agent answers is read, so its writes never hold it up.
    let listening = async { while from_agent.next().await.is_some() {} };
    let outcome = tokio::time::timeout(BOUND, async {
        // The server's verdict on the bytes does not matter here, only that it comes.
        let (_served, (), ()) = tokio::join!(serving, hostile, listening);
    })
    .await;
    outcome.is_ok()
}

fn message() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..2048),
        // HTTP/2 frame headers with random type, flags and stream, and a short payload.
        (
            0u32..(1 << 14),
            any::<u8>(),
            any::<u8>(),
            any::<u32>(),
            proptest::collection::vec(any::<u8>(), 0..64)
        )
            .prop_map(|(len, kind, flags, stream, payload)| {
                let mut frame = len.to_be_bytes()[1..].to_vec();
                frame.extend([kind % 12, flags]);
                frame.extend(stream.to_be_bytes());
                frame.extend(payload);
                frame
            }),
    ]
}

proptest! {
    #![proptest_config(config("proptest-regressions/tunnel-byte-stream.txt"))]
    #[test]
    fn bytes_cross_intact_however_cut(
        chunks in proptest::collection::vec((1usize..40_000, any::<bool>()), 1..16),
    ) {
        let (sent, got) = runtime().block_on(carry(&chunks));
        prop_assert!(sent == got, "the bytes read differ from the bytes written");
    }
}

proptest! {
    #![proptest_config(config("proptest-regressions/tunnel-hostile-frames.txt"))]
    #[test]
    fn hostile_frames_end_the_tunnel_cleanly(
        with_preface in any::<bool>(),
        messages in proptest::collection::vec(message(), 0..8),
    ) {
        let mut all = Vec::new();
        if with_preface {
            all.push(PREFACE.to_vec());
        }
        all.extend(messages);
        prop_assert!(runtime().block_on(server_survives(all)), "the tunnel hung");
    }
}

/// WebSocket frames as the cloud's end would write them (unmasked), with any opcode, flags and
/// declared length, the 64-bit form included: a length the agent must not allocate for.
fn raw_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u8>(),
        prop_oneof![
            (0u64..126).boxed(),
            (126u64..70_000).boxed(),
            any::<u64>().boxed()
        ],
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..256),
    )
        .prop_map(|(first, length, masked, payload)| {
            let mask_bit = if masked { 0x80 } else { 0 };
            let mut frame = vec![first];
            match length {
                0..126 => frame.push(mask_bit | length as u8),
                126..=0xffff => {
                    frame.push(mask_bit | 126);
                    frame.extend((length as u16).to_be_bytes());
                }
                _ => {
                    frame.push(mask_bit | 127);
                    frame.extend(length.to_be_bytes());
                }
            }
            if masked {
                frame.extend([0x5a, 0xa5, 0x0f, 0xf0]);
            }
            frame.extend(payload);
            frame
        })
}

proptest! {
    #![proptest_config(Config { cases: 32, ..config("proptest-regressions/tunnel-raw-frames.txt") })]
    #[test]
    fn raw_websocket_bytes_end_the_tunnel_cleanly(
        frames in proptest::collection::vec(raw_frame(), 0..6),
        tail in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut bytes: Vec<u8> = frames.concat();
        bytes.extend(tail);
        let ended = runtime().block_on(super::fuzzing::tunnel_survives(&bytes, BOUND));
        prop_assert!(ended, "the tunnel hung");
    }
}
