//! The probe against tiny servers on loopback whose behaviour each test names.

use std::net::SocketAddr;
use std::time::Duration;

use probes::{Answer, ProbeError, ProbeOptions, probe_tls, render_table};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wire::tls::{TLS12_SUITES, Version, WireError, parse_client_hello, server_hello_record};

/// What a tiny server does with each connection.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    AnswersHttp,
    AcceptsAnything,
    NeverAnswers,
}

/// Binds port 0 and serves every connection with `behaviour` until the test's runtime ends.
async fn tiny_server(behaviour: Behaviour) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("bound address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, behaviour));
        }
    });
    address
}

async fn serve(mut stream: TcpStream, behaviour: Behaviour) {
    let received = read_hello(&mut stream).await;
    let answer = match behaviour {
        Behaviour::AnswersHttp => {
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        }
        Behaviour::AcceptsAnything => match parse_client_hello(&received) {
            Ok(hello) => {
                let version = hello.offered_versions().into_iter().max();
                let suite = hello.cipher_suites.first().copied();
                match (version, suite) {
                    (Some(version), Some(suite)) => server_hello_record(version, suite),
                    _ => return,
                }
            }
            Err(_) => return,
        },
        Behaviour::NeverAnswers => {
            // Holds the connection open without a word, as a firewall that drops packets
            // would look to the probe.
            tokio::time::sleep(Duration::from_secs(60)).await;
            return;
        }
    };
    let _ = stream.write_all(&answer).await;
    let _ = stream.shutdown().await;
}

async fn read_hello(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(n @ 1..) = stream.read(&mut buffer).await {
        received.extend_from_slice(&buffer[..n]);
        if parse_client_hello(&received) != Err(WireError::Truncated) {
            break;
        }
    }
    received
}

fn quick() -> ProbeOptions {
    ProbeOptions {
        sni: None,
        timeout: Duration::from_millis(300),
    }
}

#[tokio::test]
async fn a_closed_port_is_an_error_not_a_report() {
    let address = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let error = probe_tls(&address.to_string(), &quick()).await.unwrap_err();
    assert!(
        matches!(error, ProbeError::Connect { address: a, .. } if a == address),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_malformed_target_is_refused_before_any_connection() {
    let error = probe_tls("127.0.0.1", &quick()).await.unwrap_err();
    assert!(matches!(error, ProbeError::BadTarget { .. }), "{error:?}");
}

#[tokio::test]
async fn a_plaintext_http_server_refuses_every_version_in_its_own_words() {
    let address = tiny_server(Behaviour::AnswersHttp).await;
    let report = probe_tls(&address.to_string(), &quick()).await.unwrap();
    assert_eq!(report.accepted_versions(), vec![]);
    assert_eq!(report.versions.len(), Version::ALL.len());
    for result in &report.versions {
        let Answer::NotTls { first_bytes } = &result.answer else {
            panic!("{}: {:?}", result.version, result.answer);
        };
        assert!(first_bytes.starts_with("HTTP/1.1 400"), "{first_bytes}");
    }
    assert!(report.tls12_suites.is_empty());
    assert!(report.certificates.is_empty());
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_on_every_version() {
    let address = tiny_server(Behaviour::NeverAnswers).await;
    let report = probe_tls(&address.to_string(), &quick()).await.unwrap();
    assert!(report.versions.iter().all(|v| v.answer == Answer::TimedOut));
    assert!(report.tls12_suites.is_empty());
}

#[tokio::test]
async fn a_server_that_accepts_anything_shows_every_version_and_suite_accepted() {
    let address = tiny_server(Behaviour::AcceptsAnything).await;
    let options = ProbeOptions {
        sni: Some("probe.test".into()),
        ..quick()
    };
    let report = probe_tls(&address.to_string(), &options).await.unwrap();
    assert_eq!(report.accepted_versions(), Version::ALL.to_vec());
    assert_eq!(report.accepted_suites().len(), TLS12_SUITES.len());
    assert_eq!(report.sni.as_deref(), Some("probe.test"));

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["versions"][4]["answer"]["kind"], "server_hello");
    assert_eq!(json["versions"][4]["answer"]["version"], "TLS 1.3");
    let table = render_table(&report);
    assert!(
        table.contains("! 0x0004  TLS_RSA_WITH_RC4_128_MD5"),
        "{table}"
    );
    assert!(
        table.contains("  0xc02b  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
        "{table}"
    );
}
