//! The probe against tiny servers on loopback whose behaviour each test names.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use probes::{
    Answer, Premise, ProbeError, ProbeOptions, Refusal, Verdict, probe_tls, render_table,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wire::tls::{TLS12_SUITES, Version, WireError, parse_client_hello, server_hello_record};

/// What a tiny server does with each connection.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    AnswersHttp,
    AcceptsAnything,
    NeverAnswers,
    ClosesAtOnce,
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
    if let Behaviour::ClosesAtOnce = behaviour {
        return;
    }
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
            // Holds the connection open without a word until the probe hangs up, as a
            // firewall that drops packets would look to the probe.
            let _ = stream.read_to_end(&mut Vec::new()).await;
            return;
        }
        Behaviour::ClosesAtOnce => return,
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

/// Bounds for servers that answer at once: generous, since answers never wait for them.
fn quick() -> ProbeOptions {
    ProbeOptions {
        sni: None,
        timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(2),
    }
}

/// A short read bound, for a server whose silence the test is about.
fn impatient() -> ProbeOptions {
    ProbeOptions {
        read_timeout: Duration::from_millis(150),
        ..quick()
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
async fn a_plaintext_http_server_is_not_tls_on_every_version_and_refuses_none() {
    let address = tiny_server(Behaviour::AnswersHttp).await;
    let report = probe_tls(&address.to_string(), &quick()).await.unwrap();
    assert_eq!(report.accepted_versions(), vec![]);
    assert_eq!(report.versions.len(), Version::ALL.len());
    for result in &report.versions {
        let Verdict::NotTls { first_bytes } = &result.verdict else {
            panic!("{}: {:?}", result.version, result.verdict);
        };
        assert!(first_bytes.starts_with(b"HTTP/1.1 400"), "{first_bytes:?}");
        let Answer::NotTls { first_bytes } = &result.answer else {
            panic!("{}: {:?}", result.version, result.answer);
        };
        assert!(first_bytes.starts_with("HTTP/1.1 400"), "{first_bytes}");
    }
    assert_eq!(report.premise, Premise::NotTls);
    assert!(!report.speaks_tls);
    assert!(report.tls12_suites.is_empty());
    assert!(report.certificates.is_empty());

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["speaks_tls"], false);
    assert_eq!(json["premise"], "not_tls");
    assert_eq!(json["versions"][0]["verdict"], "not_tls");
    assert!(json["versions"][0]["form"].is_null());
    let table = render_table(&report);
    let first_line = table.lines().next().unwrap();
    assert_eq!(
        first_line,
        format!(
            "{address} does not speak TLS: it answered \"HTTP/1.1 400 Bad Request\\r\\nConten\""
        ),
    );
}

#[tokio::test]
async fn a_server_that_never_answers_gets_no_answer_on_every_version_and_refuses_none() {
    let address = tiny_server(Behaviour::NeverAnswers).await;
    let report = probe_tls(&address.to_string(), &impatient()).await.unwrap();
    for result in &report.versions {
        assert_eq!(result.verdict, Verdict::NoAnswer, "{}", result.version);
        assert_eq!(result.answer, Answer::TimedOut, "{}", result.version);
    }
    assert_eq!(report.premise, Premise::NoAnswer);
    assert!(!report.speaks_tls);
    assert!(report.tls12_suites.is_empty());
    let table = render_table(&report);
    assert!(
        table.starts_with(&format!("{address} gave no answer")),
        "{table}"
    );
}

#[tokio::test]
async fn a_server_that_closes_at_once_refuses_every_version_by_closing() {
    let address = tiny_server(Behaviour::ClosesAtOnce).await;
    let report = probe_tls(&address.to_string(), &quick()).await.unwrap();
    for result in &report.versions {
        assert_eq!(
            result.verdict,
            Verdict::Refused(Refusal::ClosedBeforeServerHello),
            "{}",
            result.version
        );
    }
    assert_eq!(report.premise, Premise::Tls);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["versions"][3]["verdict"], "refused");
    assert_eq!(json["versions"][3]["form"], "closed_before_server_hello");
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

    assert!(report.speaks_tls);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["versions"][4]["verdict"], "accepted");
    assert_eq!(json["tls12_suites"][0]["verdict"], "accepted");
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

/// A rustls server that speaks TLS 1.2 alone, with a fresh self-signed P-256 certificate for
/// `probe.test`, completing handshakes until the test's runtime ends.
async fn rustls_tls12_only() -> SocketAddr {
    let certified = rcgen::generate_simple_self_signed(vec!["probe.test".to_owned()])
        .expect("a self-signed certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_protocol_versions(&[&rustls::version::TLS12])
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("rustls takes the certificate");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("bound address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // The probe hangs up mid-handshake, so every accept ends in an error.
                let _ = acceptor.accept(stream).await;
            });
        }
    });
    address
}

#[tokio::test]
async fn a_rustls_tls12_only_server_accepts_tls12_and_refuses_the_rest_in_named_forms() {
    let address = rustls_tls12_only().await;
    let options = ProbeOptions {
        sni: Some("probe.test".into()),
        ..quick()
    };
    let report = probe_tls(&address.to_string(), &options).await.unwrap();
    let table = render_table(&report);
    assert_eq!(report.premise, Premise::Tls, "{table}");
    assert_eq!(report.accepted_versions(), vec![Version::Tls12], "{table}");
    for result in &report.versions {
        if result.version == Version::Tls12 {
            let hello = result.verdict.server_hello().expect("a ServerHello");
            assert_eq!(hello.selected_version, Version::Tls12.code());
        } else {
            assert_eq!(
                result.verdict,
                Verdict::Refused(Refusal::ProtocolVersionAlert),
                "{}\n{table}",
                result.version
            );
        }
    }

    let accepted: Vec<&str> = report
        .accepted_suites()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert!(
        accepted.contains(&"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
        "{table}"
    );
    for suite in &report.tls12_suites {
        if suite.accepted {
            assert!(suite.forward_secret_aead, "{}\n{table}", suite.name);
        } else {
            assert_eq!(
                suite.verdict,
                Verdict::Refused(Refusal::HandshakeFailureAlert),
                "{}\n{table}",
                suite.name
            );
        }
    }
    let leaf = report.certificates.first().expect("a certificate chain");
    assert_eq!(leaf.sans, vec!["DNS:probe.test"], "{table}");

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["speaks_tls"], true);
    assert_eq!(json["versions"][0]["form"], "protocol_version_alert");
    assert_eq!(json["versions"][3]["verdict"], "accepted");
}
